"""Reading export files into checked records (the CLI and the demo share this path)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from dreamseed.ingest.records import ExamResultRow, Rejected, check_exam_result

T = TypeVar("T")


def numbered_lines(path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[tuple[int, str]]:
    """Non-blank lines of a UTF-8 text file with their 1-based line numbers; `on_bytes(n)` per line read."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if on_bytes is not None:
                on_bytes(len(raw))
            line = raw.decode("utf-8", errors="replace").strip()
            if line:
                yield number, line


def exam_result_records(lines: Iterable[tuple[int, str]]) -> Iterator[ExamResultRow | Rejected]:
    return (check_exam_result(number, line) for number, line in lines)


@dataclass(frozen=True)
class CsvLayout:
    """The columns a CSV export must have, and its full header (for the error message)."""

    required: tuple[str, ...]
    header: tuple[str, ...]


QUESTIONS_CSV = CsvLayout(("id",), ("id", "topic_id", "difficulty", "content", "a", "b", "c", "tags"))
GOALS_CSV = CsvLayout(
    ("user_id", "topic_id", "target_level"),
    ("user_id", "topic_id", "target_level", "priority", "target_date", "created_at"),
)


class MissingColumns(ValueError):
    """A CSV header without a column the file must have."""


def csv_records(
    path: Path,
    check: Callable[[int, dict[str, str | None], str], T | Rejected],
    layout: CsvLayout | None = None,
) -> Iterator[T | Rejected]:
    """Checked rows of a CSV file with a header; line numbers count the header as line 1.

    Raises MissingColumns (before any row) when the header lacks a column `layout` requires.
    """
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        found = reader.fieldnames or []
        missing = [name for name in (layout.required if layout else ()) if name not in found]
        if missing and layout is not None:
            raise MissingColumns(
                f"{path.name} has no column {', '.join(missing)}; expected the header "
                f"{','.join(layout.header)} (found: {','.join(found) or 'an empty file'})"
            )
        for row in reader:
            raw = io.StringIO()
            csv.writer(raw).writerow(row.values())
            yield check(reader.line_num, row, raw.getvalue().rstrip("\r\n"))
