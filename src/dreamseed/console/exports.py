"""CSV downloads of the console's lists."""

from __future__ import annotations

import csv
import io

from sqlalchemy import Connection

from dreamseed.console import views
from dreamseed.storage import console as store

AT_RISK_COLUMNS = (*views.STUDENT_FIELDS, "reasons")


def at_risk_csv(
    connection: Connection, where: store.StudentFilter, sort: str, descending: bool, limit: int
) -> bytes:
    """The at-risk list as CSV (UTF-8 with a BOM so spreadsheet programs read Korean right)."""
    rows = store.read_students(connection, where, sort, descending, limit, 0)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AT_RISK_COLUMNS)
    for row in rows:
        found = "; ".join(f"{reason['code']}={reason['n']}" for reason in views.reasons(row))
        writer.writerow([_cell(row[field]) for field in views.STUDENT_FIELDS] + [found])
    return ("\ufeff" + buffer.getvalue()).encode()


def _cell(value: object) -> object:
    if isinstance(value, float):
        return f"{value:.4f}"
    plain = views.plain(value)
    return "" if plain is None else plain
