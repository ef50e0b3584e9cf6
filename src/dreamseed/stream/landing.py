"""One batch into PostgreSQL: its sessions through the file loader and its users' θ, one transaction."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from dreamseed.ingest.limits import DateWindow
from dreamseed.ingest.records import ExamResultRow, Rejected
from dreamseed.settings import Settings
from dreamseed.storage.ingest import IngestSummary, load_exam_results_in
from dreamseed.storage.online_theta import read_stored_versions
from dreamseed.stream.batch import checked_records
from dreamseed.stream.phases import Phases
from dreamseed.stream.source import Delivery
from dreamseed.stream.theta import BankCache, landed_rows, latest_session_per_user, update_thetas


@dataclass(frozen=True)
class Landed:
    """What a committed batch did: the loader's summary, the number of users whose θ moved, and the
    seconds of each phase (check, sessions, theta_read, theta_score, theta_write, commit)."""

    summary: IngestSummary
    thetas: int
    phases: Phases = field(default_factory=Phases, compare=False)


@dataclass(frozen=True)
class Checked:
    """A batch's deliveries checked as file lines (`checked_records`), ready to land."""

    records: list[ExamResultRow | Rejected]
    seconds: float

    @property
    def rows(self) -> list[ExamResultRow]:
        return [record for record in self.records if isinstance(record, ExamResultRow)]


class BatchLander:
    """Writes batches of deliveries; holds the item bank between batches."""

    def __init__(self, engine: Engine, settings: Settings, source: str) -> None:
        self.engine, self.settings, self.source = engine, settings, source
        self.bank = BankCache(settings.mirt_version, settings.mirt_version)

    def check(self, deliveries: Sequence[Delivery]) -> Checked:
        """Each delivery checked as a line of an exam-results file (no database: the worker checks the
        next batch while this one lands)."""
        started = time.perf_counter()
        settings = self.settings
        window = DateWindow.around(
            datetime.now(UTC), settings.ingest_min_date, settings.ingest_max_future_days
        )
        records = checked_records(
            deliveries, window, settings.stream_max_event_bytes, settings.stream_max_deliver
        )
        return Checked(records, time.perf_counter() - started)

    def land(self, deliveries: Sequence[Delivery], checked: Checked | None = None) -> Landed:
        """Load and rescore in one transaction (``checked``: `check(deliveries)`, done here if None);
        returns after the commit (raises if it failed)."""
        checked = checked or self.check(deliveries)
        now = datetime.now(UTC)
        phases = Phases()
        phases.add("check", checked.seconds)
        rows = checked.rows
        with self.engine.connect() as connection:
            with connection.begin():
                with phases.timed("sessions"):
                    stored = read_stored_versions(connection, [row.session_id for row in rows])
                    sessions = latest_session_per_user(landed_rows(rows, stored))
                    summary = load_exam_results_in(connection, checked.records, self.source)
                bank = self.bank.get(connection)
                thetas = update_thetas(connection, bank, sessions, self.settings.mirt_version, now, phases)
                committing = time.perf_counter()
            phases.add("commit", time.perf_counter() - committing)
        return Landed(summary, thetas, phases)
