"""The shared CLI option decorators: one name, type and help per option, parameters where commands differ."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from dreamseed.cli.options import end_date_option, out_option, seed_option, students_option, weeks_option


@click.command()
@students_option(default=50, minimum=20)
@weeks_option(default=8, minimum=4, maximum=26)
@seed_option(default=7)
@end_date_option(period="the period")
@out_option(kind="file", help="File.", required=False)
def probe(**values: object) -> None:
    click.echo(repr(sorted(values.items())))


def test_defaults_ranges_and_help_come_from_the_parameters() -> None:
    runner = CliRunner()
    assert "('students', 50), ('weeks', 8)" in runner.invoke(probe, []).output
    assert "('out', None)" in runner.invoke(probe, []).output
    assert runner.invoke(probe, ["--students", "19"]).exit_code == 2
    assert runner.invoke(probe, ["--weeks", "27"]).exit_code == 2
    assert runner.invoke(probe, ["--seed", "-1"]).exit_code == 2
    shown = " ".join(runner.invoke(probe, ["--help"]).output.split())
    assert "Students to simulate. [default: 50; x>=20]" in shown
    assert "Last day of the period, YYYY-MM-DD. [default: yesterday]" in shown


def test_out_is_a_directory_or_a_file_and_required_by_default(tmp_path: Path) -> None:
    @click.command()
    @out_option(kind="directory", help="Directory.")
    def into(out: Path) -> None:
        click.echo(out.name)

    runner = CliRunner()
    assert runner.invoke(into, []).exit_code == 2
    assert runner.invoke(into, ["--out", str(tmp_path / "new")]).output == "new\n"
    (tmp_path / "file").write_text("")
    assert runner.invoke(into, ["--out", str(tmp_path / "file")]).exit_code == 2
    assert runner.invoke(probe, ["--out", str(tmp_path)]).exit_code == 2
