"""Response CSVs for `dreamseed irt` read through Arrow: columns, not Python values.

``pyarrow.csv`` parses the file on all cores into dictionary-encoded columns (so Python touches
each distinct id once, never each answer; the codes go to ``Responses.from_codes`` unsorted and
unhashed) and ``correct`` is mapped through its few distinct spellings. Every check of the pandas reader it replaces is kept, with the 1-based line of
the file in the message: a row with the wrong number of fields, empty ids, missing or non-0/1
``correct``. Blank lines are skipped (they are not answers); nothing else is dropped.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import pyarrow as pa

    from dreamseed.irt.responses import Responses

RESPONSE_COLUMNS = ("user_id", "item_id", "correct")
CORRECT_WORDS = {"1": 1, "true": 1, "t": 1, "yes": 1, "0": 0, "false": 0, "f": 0, "no": 0}


def read_responses(path: Path, duplicates: str) -> Responses:
    """The answers in the response CSV at ``path``; click.ClickException naming the line if any is bad."""
    from dreamseed.irt.responses import InvalidResponses, Responses

    table = _read_table(path, _header(path))
    keep = _not_blank(table)
    lines = np.flatnonzero(keep) + 2  # the header is line 1
    user_codes, user_ids = _codes_or_refuse_empty(path, table, "user_id", keep, lines)
    item_codes, item_ids = _codes_or_refuse_empty(path, table, "item_id", keep, lines)
    correct = _correct_values(table.column("correct").combine_chunks())[keep]
    try:
        return Responses.from_codes(user_codes, item_codes, correct, user_ids, item_ids, duplicates)  # type: ignore[arg-type]
    except InvalidResponses as error:
        raise click.ClickException(f"{path}: {error.problem} ({_lines(lines[error.rows])})") from None
    except ValueError as error:
        raise click.ClickException(f"{path}: {error}") from None


def _header(path: Path) -> list[str]:
    """The column names of the first line; errors for an empty or unreadable file or missing columns."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{path} is not a readable CSV file: {error}") from None
    except csv.Error as error:
        raise click.ClickException(f"{path} is not a readable CSV file: {error}") from None
    except OSError as error:
        raise click.ClickException(f"cannot read {path}: {error.strerror or error}") from None
    if header is None:
        raise click.ClickException(f"{path} is empty; it needs a header row ({', '.join(RESPONSE_COLUMNS)})")
    missing = [name for name in RESPONSE_COLUMNS if name not in header]
    if missing:
        raise click.ClickException(
            f"{path} lacks column(s) {', '.join(missing)}; it needs {', '.join(RESPONSE_COLUMNS)} "
            f"(found: {', '.join(header) or 'none'})"
        )
    return header


def _read_table(path: Path, header: list[str], threads: bool = True) -> pa.Table:
    """Every column dictionary-encoded while it is parsed (strings, one dictionary per column over
    all blocks, in order of first appearance), empty lines kept as rows of "" so row k is line k + 2.
    Encoding in the parser leaves no per-value work after it and needs no ``pyarrow.compute``."""
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

    invalid: list[Any] = []

    def refuse(row: Any) -> str:
        invalid.append(row)
        return "error"

    encoded = pa.dictionary(pa.int32(), pa.string())
    try:
        table = arrow_csv.read_csv(
            path,
            read_options=arrow_csv.ReadOptions(use_threads=threads),
            parse_options=arrow_csv.ParseOptions(ignore_empty_lines=False, invalid_row_handler=refuse),
            convert_options=arrow_csv.ConvertOptions(
                column_types=dict.fromkeys(header, encoded), strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid as error:
        if invalid and invalid[0].number is None and threads:
            return _read_table(path, header, threads=False)  # a serial read knows the row's line
        raise click.ClickException(f"{path} is not a readable CSV file: {_reason(invalid, error)}") from None
    return table.unify_dictionaries()


def _reason(invalid: list[Any], error: Exception) -> str:
    if not invalid:
        return str(error).strip().splitlines()[-1]
    row = invalid[0]
    where = f"Expected {row.expected_columns} fields in line {row.number}, saw {row.actual_columns}"
    if row.actual_columns > row.expected_columns:
        return f"a row has more fields than the header ({where})"
    return f"a row has fewer fields than the header ({where})"


def _not_blank(table: pa.Table) -> npt.NDArray[np.bool_]:
    """False for rows whose every field is "" (blank lines), as the pandas reader dropped them."""
    length = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        encoded = _combined(column)
        length += _string_lengths(encoded.dictionary)[_integers(encoded.indices)]
    return length > 0


def _combined(column: pa.ChunkedArray) -> pa.DictionaryArray:
    """One dictionary array from a column's chunks (which share one dictionary after unifying)."""
    import pyarrow as pa

    if column.num_chunks == 0:
        return pa.DictionaryArray.from_arrays(pa.array([], pa.int32()), pa.array([], pa.string()))
    return column.combine_chunks()


def _string_lengths(column: pa.Array) -> npt.NDArray[np.int64]:
    """Bytes of each value of a string array, from its offsets (no copy, no Python per value)."""
    import pyarrow as pa

    if len(column) == 0:
        return np.zeros(0, dtype=np.int64)
    width = np.int64 if pa.types.is_large_string(column.type) else np.int32
    offsets = np.frombuffer(column.buffers()[1], dtype=width)[column.offset : column.offset + len(column) + 1]
    return np.diff(offsets).astype(np.int64)


def _codes_or_refuse_empty(
    path: Path, table: pa.Table, name: str, keep: npt.NDArray[np.bool_], lines: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.str_]]:
    """(codes of the kept rows, distinct ids); ClickException naming the lines where an id is blank."""
    encoded = _combined(table.column(name))
    ids = np.asarray(encoded.dictionary.to_pylist(), dtype=str)
    codes = _integers(encoded.indices)[keep]
    blank = np.char.str_len(np.char.strip(ids)) == 0
    if blank.any():
        empty = blank[codes]
        if empty.any():
            raise click.ClickException(
                f"{path}: {name} is empty on {_lines(lines[empty])}; every answer needs an id"
            )
    return codes, ids


def _correct_values(column: pa.DictionaryArray) -> npt.NDArray[Any]:
    """0/1 as int8 when every spelling is known; else the cleaned strings (None for empty), for
    ``Responses.from_codes`` to name what is wrong and where."""
    spellings = [s.strip().lower() for s in column.dictionary.to_pylist()]
    codes = _integers(column.indices)
    if all(spelling in CORRECT_WORDS for spelling in spellings):
        return np.array([CORRECT_WORDS[s] for s in spellings], dtype=np.int8)[codes]
    cleaned = np.empty(len(spellings), dtype=object)
    cleaned[:] = [None if s == "" else str(CORRECT_WORDS.get(s, s)) for s in spellings]
    return cleaned[codes]


def _integers(indices: pa.Array) -> npt.NDArray[np.int32]:
    """Dictionary indices (never null here) read from the buffer: ``to_numpy`` would import pandas
    (~0.3 s) through pyarrow's pandas shim."""
    width = np.dtype(f"int{indices.type.bit_width}")
    values = np.frombuffer(indices.buffers()[1], dtype=width)[indices.offset : indices.offset + len(indices)]
    return values.astype(np.int32, copy=False)


def write_csv(path: Path, columns: dict[str, npt.NDArray[Any]]) -> None:
    """Columns to a CSV as pandas' ``to_csv(index=False)`` writes them (shortest float repr, NaN as
    empty), without importing pandas."""
    cells = [_cells(values) for values in columns.values()]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(zip(*cells, strict=True))


def _cells(values: npt.NDArray[Any]) -> list[Any]:
    array = np.asarray(values)
    if array.dtype.kind != "f":
        return array.tolist()
    return ["" if v != v else v for v in array.tolist()]


def _lines(numbers: Any, limit: int = 5) -> str:
    shown = ", ".join(str(int(n)) for n in numbers[:limit])
    return ("line " if len(numbers) == 1 else "lines ") + shown + (", …" if len(numbers) > limit else "")
