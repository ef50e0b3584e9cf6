"""CPU seconds of the PostgreSQL backends serving one database, read from /proc (bench helper).

The embedded server runs on this machine, so each backend's user + system time is in
`/proc/<pid>/stat`. Only this module and SQLAlchemy are imported: the `--before` worker of
`bench.ingest` loads it next to an older revision's `src/`.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, text

_TICKS = os.sysconf("SC_CLK_TCK")


def _process_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15)


def backend_cpu_seconds(engine: Engine, since: dict[int, float] | None = None) -> dict[int, float]:
    """CPU seconds per client backend of `engine`'s database; with `since`, what each used after
    that snapshot (sum the values for the total). A backend that exited in between is missed."""
    with engine.connect() as connection:
        pids = connection.execute(
            text(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND backend_type = 'client backend'"
            )
        ).scalars()
        now = {int(pid): _process_seconds(int(pid)) for pid in pids}
    if since is None:
        return now
    return {pid: seconds - since.get(pid, 0.0) for pid, seconds in now.items()}
