"""Which group each user belongs to, for multiple-group calibration and DIF."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, text

#: Grouping columns a calibration may use, and the SQL that gives one label per user.
GROUPINGS = {
    # each user's latest non-null exam_results.org_id (the console's rule, storage/console_refresh.py)
    "org_id": """
        SELECT user_id, (array_agg(org_id::text ORDER BY COALESCE(updated_at, created_at) DESC)
                         FILTER (WHERE org_id IS NOT NULL))[1] AS label
        FROM exam_results WHERE user_id IS NOT NULL GROUP BY user_id
    """,
}


def read_user_groups(connection: Connection, grouping: str) -> pd.DataFrame:
    """Columns user_id (str) and group (str): one row per user that has a label under ``grouping``
    (a key of ``GROUPINGS``)."""
    if grouping not in GROUPINGS:
        raise ValueError(f"unknown grouping {grouping!r}; known: {', '.join(GROUPINGS)}")
    rows = connection.execute(text(GROUPINGS[grouping])).all()
    frame = pd.DataFrame(rows, columns=["user_id", "group"])
    frame = frame[frame["group"].notna()]
    return frame.astype({"user_id": str, "group": str}).reset_index(drop=True)
