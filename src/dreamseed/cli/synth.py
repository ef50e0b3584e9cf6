"""`dreamseed synth`: write a synthetic platform (exam results, items, goals) and its ground truth."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dreamseed.cli.context import UserError
from dreamseed.cli.options import end_date_option, out_option, seed_option, students_option, weeks_option
from dreamseed.cli.progress import staged_progress

if TYPE_CHECKING:
    pass

STAGE_LABELS = {"simulate": "Simulating weeks", "write": "Writing exam_results.jsonl"}


@click.command()
@students_option(default=500, minimum=1, help="Number of students.")
@weeks_option(default=8, minimum=1, help="Length of the period.")
@seed_option(default=0)
@out_option(kind="directory", help="Directory to write into (created; existing files replaced).")
@end_date_option(period="the period (UTC)")
@click.option("--topics", type=click.IntRange(min=1), default=8, show_default=True, help="Number of topics.")
@click.option(
    "--items-per-topic",
    type=click.IntRange(min=10),
    default=60,
    show_default=True,
    help="Items in each topic.",
)
@click.option(
    "--bad-rows",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Malformed lines/questions to spread through exam_results.jsonl (listed in truth/bad_rows.csv).",
)
def synth(
    students: int,
    weeks: int,
    seed: int,
    out: Path,
    end_date: dt.datetime | None,
    topics: int,
    items_per_topic: int,
    bad_rows: int,
) -> None:
    """Generate a realistic platform history with known truth.

    Writes exam_results.jsonl, questions.csv and goals.csv (what `dreamseed ingest` loads),
    responses.csv (user_id,item_id,correct: what `dreamseed irt fit` reads) and
    truth/: items.csv (true a, b, c), students.csv (θ0, growth, churn date, goal outcome),
    theta_weekly.csv, bad_rows.csv and meta.json. The same options give byte-identical files.
    """
    from dreamseed.synth import SynthConfig, generate_platform, write_platform

    last_day = end_date.date() if end_date else dt.date.today() - dt.timedelta(days=1)
    config = SynthConfig(
        students=students,
        weeks=weeks,
        seed=seed,
        end_date=last_day,
        topics=topics,
        items_per_topic=items_per_topic,
        bad_rows=bad_rows,
    )
    began = time.perf_counter()
    with staged_progress(STAGE_LABELS) as progress:
        try:
            platform = generate_platform(config, progress)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        try:
            written = [*write_platform(platform, out, progress), _write_responses(platform, out)]
        except OSError as error:
            raise UserError(
                f"cannot write to {out}: {error.strerror or error}; choose another --out"
            ) from None
    elapsed = time.perf_counter() - began
    _print_summary(platform.meta, out, [(f.path, f.rows, f.bytes) for f in written], elapsed)


def _write_responses(platform: Any, out: Path) -> Any:
    """OUT/responses.csv: the answers as `dreamseed irt fit` reads them."""
    from dreamseed.synth.jsonl import response_rows
    from dreamseed.synth.writer import WrittenFile

    path = out / "responses.csv"
    frame = response_rows(platform.exam_results, platform.exam_questions, platform.bad_rows)
    frame.to_csv(path, index=False, lineterminator="\n")
    return WrittenFile(path, len(frame), path.stat().st_size)


def _print_summary(
    meta: Mapping[str, Any], out: Path, files: list[tuple[Path, int, int]], elapsed: float
) -> None:
    counts = meta["counts"]
    click.echo(
        f"Wrote a synthetic platform to {out} in {elapsed:.1f} s "
        f"(seed {meta['seed']}, {meta['start_date']} to {meta['end_date']}, {meta['weeks']} weeks)"
    )
    click.echo(
        f"  {counts['students']:,} students, {counts['items']:,} items ({counts['anchor_items']:,} anchors), "
        f"{counts['sessions']:,} sessions, {counts['questions']:,} questions, {counts['bad_rows']:,} bad rows"
    )
    click.echo(
        f"  {counts['churned']:,} churned within the period; {counts['goals_with_outcome']:,} of "
        f"{counts['goals']:,} goals have a known outcome ({counts['goals_reached']:,} reached)"
    )
    width = max(len(str(path.relative_to(out))) for path, _, _ in files)
    click.echo(f"  {'FILE':<{width}}  {'ROWS':>12}  {'SIZE':>10}")
    for path, rows, size in files:
        click.echo(f"  {path.relative_to(out)!s:<{width}}  {rows:>12,}  {_human_size(size):>10}")
    click.echo(
        f"Next: dreamseed ingest questions {out / 'questions.csv'}; dreamseed ingest goals {out / 'goals.csv'}; "
        f"dreamseed ingest exam-results {out / 'exam_results.jsonl'}"
    )
    click.echo(
        f"Or calibrate the items directly: dreamseed irt fit {out / 'responses.csv'} --out {out / 'fit'}"
    )


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
