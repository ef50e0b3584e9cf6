"""Reading export files into checked records (the CLI and the demo share this path).

Files are read as bytes and decoded line by line with `errors="surrogateescape"`: a line that is
not valid UTF-8 is rejected with that reason instead of being altered, and one bad line never
stops the file. A leading byte-order mark is dropped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from dreamseed.ingest.limits import DateWindow, escaped
from dreamseed.ingest.records import ExamResultRow, Rejected, check_exam_result, parse_json

T = TypeVar("T")
BOM = "\ufeff"
SNIFF_LINES = 5
ECHO_CHARS = 80


def current_window(min_date: date, max_future_days: int) -> DateWindow:
    """The plausible window of event times as of now (INGEST_MIN_DATE, INGEST_MAX_FUTURE_DAYS)."""
    return DateWindow.around(datetime.now(UTC), min_date, max_future_days)


def numbered_lines(path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[tuple[int, str]]:
    """Non-blank lines of a text file with their 1-based line numbers; `on_bytes(n)` per line read.

    Bytes that are not UTF-8 become lone surrogates (`surrogateescape`), which the line checks
    reject; a byte-order mark at the start of the file is removed.
    """
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if on_bytes is not None:
                on_bytes(len(raw))
            line = raw.decode("utf-8", errors="surrogateescape")
            if number == 1:
                line = line.removeprefix(BOM)
            line = line.strip()
            if line:
                yield number, line


def exam_result_records(
    lines: Iterable[tuple[int, str]], window: DateWindow | None = None
) -> Iterator[ExamResultRow | Rejected]:
    return (check_exam_result(number, line, window) for number, line in lines)


def echo(text: str, limit: int = ECHO_CHARS) -> str:
    """`text` made safe and short for a message (`limit` characters at most, odd characters escaped)."""
    shown = escaped(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _first_lines(path: Path) -> list[str]:
    lines: list[str] = []
    for _, line in numbered_lines(path):
        lines.append(line)
        if len(lines) == SNIFF_LINES:
            break
    return lines


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(parse_json(line), dict)
    except ValueError:
        return False


def exam_results_kind_problem(path: Path) -> str | None:
    """Why `path` is not a JSON Lines file of exam results, judged from its first non-blank lines
    (None when one of them is a JSON object, or the file is empty)."""
    first = _first_lines(path)
    if not first or any(_is_json_object(line) for line in first):
        return None
    guess = next((layout for layout in (QUESTIONS_CSV, GOALS_CSV) if layout.matches(first[0])), None)
    hint = (
        f"; it looks like a {guess.name} CSV (load it with `dreamseed ingest {guess.name}`)" if guess else ""
    )
    return (
        f"{path.name} is not a JSON Lines file of exam results: none of its first {len(first)} "
        f"line(s) is a JSON object (line 1: {echo(first[0])!r}){hint}"
    )


@dataclass(frozen=True)
class CsvLayout:
    """The columns a CSV export must have, and its full header (for the error message)."""

    name: str
    required: tuple[str, ...]
    header: tuple[str, ...]

    def matches(self, header_line: str) -> bool:
        found = {column.strip() for column in header_line.split(",")}
        return set(self.required) <= found


QUESTIONS_CSV = CsvLayout(
    "questions", ("id",), ("id", "topic_id", "difficulty", "content", "a", "b", "c", "tags")
)
GOALS_CSV = CsvLayout(
    "goals",
    ("user_id", "topic_id", "target_level"),
    ("user_id", "topic_id", "target_level", "priority", "target_date", "created_at"),
)


class MissingColumns(ValueError):
    """A CSV header without a column the file must have (or a file that is not CSV at all)."""


def _header_problem(path: Path, found: list[str], layout: CsvLayout) -> str | None:
    missing = [name for name in layout.required if name not in found]
    if not missing:
        return None
    shown = echo(",".join(found)) or "an empty file"
    if found and found[0].lstrip().startswith(("{", "[")):
        return (
            f"{path.name} looks like JSON Lines, not a {layout.name} CSV with the header "
            f"{','.join(layout.header)} (line 1: {shown!r}); exam results load with "
            "`dreamseed ingest exam-results`"
        )
    return (
        f"{path.name} has no column {', '.join(missing)}; expected the header "
        f"{','.join(layout.header)} (found: {shown})"
    )


def csv_records(
    path: Path,
    check: Callable[[int, dict[str, str | None], str], T | Rejected],
    layout: CsvLayout | None = None,
) -> Iterator[T | Rejected]:
    """Checked rows of a CSV file with a header; line numbers count the header as line 1.

    Raises MissingColumns (before any row) when the header lacks a column `layout` requires. A
    row the csv module cannot read (e.g. a field over its size limit) is rejected, not raised.
    """
    with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
        reader = csv.DictReader(handle)
        try:
            found = reader.fieldnames or []
        except csv.Error as error:
            raise MissingColumns(f"{path.name}: cannot read the CSV header: {error}") from None
        problem = _header_problem(path, list(found), layout) if layout is not None else None
        if problem is not None:
            raise MissingColumns(problem)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield Rejected(reader.line_num + 1, f"unreadable CSV row: {error}", "")
                continue
            yield check(reader.line_num, row, _raw_row(row))


def _raw_row(row: dict[str, str | None]) -> str:
    raw = io.StringIO()
    values = [value for value in row.values() for value in (value if isinstance(value, list) else [value])]
    csv.writer(raw).writerow(values)
    return raw.getvalue().rstrip("\r\n")
