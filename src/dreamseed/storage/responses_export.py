"""The answers of a date window as the long response CSV `dreamseed irt fit` reads.

One `COPY (…) TO STDOUT` streamed into the file: no Python row per answer, so millions of
answers export in seconds and memory stays flat.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import BinaryIO

from sqlalchemy import Connection

from dreamseed.storage.frames import _psycopg, _psycopg_statement

_ANSWERS = """
    SELECT a.user_id, a.item_id, a.correct::int AS correct
    FROM attempt_fact a
    WHERE a.completed_at >= :start AND a.completed_at < :end
    ORDER BY a.completed_at, a.exam_result_id, a.question_index
"""


def copy_response_csv(connection: Connection, first_day: date, last_day: date, out: BinaryIO) -> int:
    """Write `user_id,item_id,correct` for answers completed on UTC days first_day..last_day.

    Rows are in completion order (so `--duplicates last` keeps the latest answer). Returns the
    number of answers written (the header not counted).
    """
    params = {"start": first_day, "end": last_day + timedelta(days=1)}
    statement = f"COPY ({_psycopg_statement(_ANSWERS)}) TO STDOUT WITH (FORMAT csv, HEADER true)"
    newlines = 0
    with _psycopg(connection).cursor() as cursor, cursor.copy(statement, params) as copy:
        for chunk in copy:
            data = bytes(chunk)
            newlines += data.count(b"\n")
            out.write(data)
    if newlines == 0:
        out.write(b"user_id,item_id,correct\n")
        return 0
    return newlines - 1
