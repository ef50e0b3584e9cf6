"""Bulk reads into pandas and bulk writes with COPY, on a SQLAlchemy connection (psycopg 3)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import psycopg
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection, text

_NAMED_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


def read_frame(connection: Connection, query: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Run a query and return all rows as a DataFrame (column names from the query)."""
    result = connection.execute(text(query), params or {})
    names = list(result.keys())
    columns = list(zip(*result.fetchall(), strict=True)) or [()] * len(names)
    return pd.DataFrame(
        {name: list(values) for name, values in zip(names, columns, strict=True)}, columns=names
    )


def fetch_binary(connection: Connection, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """All rows of a query (`:name` parameters) fetched in PostgreSQL's binary format: bytea values
    arrive as raw bytes (the text format would hex-encode them, doubling the bytes and the work)."""
    with _psycopg(connection).cursor(binary=True) as cursor:
        cursor.execute(_psycopg_statement(query), params)
        return cursor.fetchall()


def _psycopg_statement(query: str) -> str:
    """A query with SQLAlchemy-style `:name` parameters in psycopg's `%(name)s` style."""
    return _NAMED_PARAMETER.sub(r"%(\1)s", query.replace("%", "%%"))


def _psycopg(connection: Connection) -> psycopg.Connection[Any]:
    raw = connection.connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)
    return raw


def copy_rows(
    connection: Connection, statement: str, rows: Iterable[Sequence[Any]], types: Sequence[str] | None = None
) -> int:
    """Stream rows into a `COPY ... FROM STDIN` statement; returns how many were written.

    `types` (PostgreSQL type names, one per column) is required for `(FORMAT BINARY)` statements.

    A writer thread sends the data, so building rows in Python overlaps with the server's work.
    """
    count = 0
    with (
        _psycopg(connection).cursor() as cursor,
        cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy,
    ):
        if types is not None:
            copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def staging_table(connection: Connection, name: str, definition: str) -> None:
    """An empty temporary table ``name`` dropped at commit; ``definition`` is its columns, e.g.
    ``(user_id text, kpis text)`` or ``(LIKE weekly_kpi INCLUDING DEFAULTS)``. Calling it again in
    the same transaction (a job writing in parts) empties the table instead of failing."""
    connection.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {name} {definition} ON COMMIT DROP"))
    connection.execute(text(f"TRUNCATE {name}"))


def copy_frame(connection: Connection, table: str, frame: pd.DataFrame) -> int:
    """COPY a frame's rows into `table` (same column names); NaN/NaT/None become NULL."""
    plain = frame.astype(object).where(frame.notna(), None)
    return copy_rows(
        connection,
        f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN",
        plain.itertuples(index=False, name=None),
    )


def copy_out_csv(
    connection: Connection, query: str, params: dict[str, Any], dtype: dict[str, Any]
) -> pd.DataFrame:
    """Run a query through `COPY (…) TO STDOUT WITH CSV HEADER` and parse it with pandas.

    `query` uses SQLAlchemy-style `:name` parameters; psycopg binds them client-side (COPY cannot
    take server-side parameters). Much faster than fetching millions of rows as Python tuples.
    """
    raw = _psycopg(connection)
    buffer = io.BytesIO()
    copy_sql = f"COPY ({_psycopg_statement(query)}) TO STDOUT WITH (FORMAT csv, HEADER true)"
    with raw.cursor() as cursor, cursor.copy(copy_sql, params) as copy:
        for chunk in copy:
            buffer.write(chunk)
    buffer.seek(0)
    if buffer.getbuffer().nbytes == 0:
        return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in dtype.items()})
    return pd.read_csv(buffer, dtype=dtype, keep_default_na=False, na_values=[""])
