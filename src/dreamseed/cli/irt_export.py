"""`dreamseed irt export-responses`: the long response CSV `irt fit` reads, from the database or a synth folder."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import click

from dreamseed.cli.context import UserError, database, load_settings
from dreamseed.cli.options import out_option
from dreamseed.runtime.command import parse_date

HEADER = ("user_id", "item_id", "correct")


@click.command("export-responses")
@click.option(
    "--from-synth",
    "synth_source",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="A `dreamseed synth` folder (or its exam_results.jsonl): read the exam results there, "
    "not the database.",
)
@click.option(
    "--since",
    callback=parse_date,
    metavar="YYYY-MM-DD",
    help="First day of answers (default: MIRT_LOOKBACK_DAYS days up to --until).",
)
@click.option(
    "--until",
    callback=parse_date,
    metavar="YYYY-MM-DD",
    help="Last day of answers (default: yesterday, UTC).",
)
@out_option(kind="file", help="CSV file to write (user_id,item_id,correct); written in full or not at all.")
def export_responses(synth_source: Path | None, since: date | None, until: date | None, out: Path) -> None:
    """Write the answers as RESPONSES.csv (user_id,item_id,correct) for `dreamseed irt fit`.

    From the database (default): the answers completed in the window, the same rows the
    mirt-calibrate job reads, in completion order. With --from-synth DIR: DIR/exam_results.jsonl
    read through the same checks as `dreamseed ingest exam-results`; malformed lines and questions
    are left out and counted.
    """
    if synth_source is not None:
        if since or until:
            raise UserError("--since/--until select database answers; leave them out with --from-synth")
        _export_from_synth(synth_source, out)
    else:
        _export_from_database(since, until, out)


def _export_from_database(since: date | None, until: date | None, out: Path) -> None:
    from dreamseed.storage.responses_export import copy_response_csv

    settings = load_settings()
    last = until or datetime.now(UTC).date() - timedelta(days=1)
    first = since or last - timedelta(days=settings.mirt_lookback_days - 1)
    if last < first:
        raise UserError(f"--until ({last}) is before --since ({first})")
    with database(settings) as engine, engine.connect() as connection:
        rows = _write_atomically(out, lambda handle: copy_response_csv(connection, first, last, handle))
    click.echo(f"Wrote {rows:,} answers from {first} to {last} to {out}")
    if rows == 0:
        click.echo("  no answers in that window; widen it with --since/--until or load data first", err=True)


def _export_from_synth(source: Path, out: Path) -> None:
    path = source / "exam_results.jsonl" if source.is_dir() else source
    if not path.is_file():
        raise UserError(f"{source} has no exam_results.jsonl; give a `dreamseed synth --out` folder")
    skipped: dict[str, int] = {}

    def write(binary: BinaryIO) -> int:
        handle = io.TextIOWrapper(binary, encoding="utf-8", newline="")
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        count = 0
        for row in _synth_answers(path, skipped):
            writer.writerow(row)
            count += 1
        handle.flush()
        handle.detach()
        return count

    rows = _write_atomically(out, write)
    click.echo(f"Wrote {rows:,} answers from {path} to {out}")
    if skipped:
        click.echo("  left out: " + ", ".join(f"{n:,} {reason}" for reason, n in sorted(skipped.items())))


def _synth_answers(path: Path, skipped: dict[str, int]) -> Iterator[tuple[str, int, int]]:
    """(user_id, item_id, correct) of every well-formed question, in file order; `skipped` counts the rest."""
    from dreamseed.ingest.attempts import attempt_or_problem
    from dreamseed.ingest.files import exam_result_records, numbered_lines
    from dreamseed.ingest.records import Rejected

    try:
        for record in exam_result_records(numbered_lines(path)):
            if isinstance(record, Rejected):
                skipped["malformed line(s)"] = skipped.get("malformed line(s)", 0) + 1
                continue
            for question in record.document["result_json"]["questions"]:
                values = attempt_or_problem(question)
                if isinstance(values, str):
                    skipped["malformed question(s)"] = skipped.get("malformed question(s)", 0) + 1
                    continue
                yield record.user_id, values[1], int(values[2])
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror or error}") from None


def _write_atomically(out: Path, write: Callable[[BinaryIO], int]) -> int:
    """Run `write(handle)` on a temporary file beside `out`, then move it into place; nothing on failure."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as error:
        raise UserError(f"cannot write {out}: {error.strerror or error}") from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            count = write(handle)
        os.chmod(temporary, 0o644)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count
