"""One batch into PostgreSQL: its sessions through the file loader and its users' θ, one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from dreamseed.ingest.limits import DateWindow
from dreamseed.ingest.records import ExamResultRow
from dreamseed.settings import Settings
from dreamseed.storage.ingest import IngestSummary, load_exam_results_in
from dreamseed.storage.online_theta import read_stored_versions
from dreamseed.stream.batch import checked_records
from dreamseed.stream.source import Delivery
from dreamseed.stream.theta import BankCache, landed_rows, latest_session_per_user, update_thetas


@dataclass(frozen=True)
class Landed:
    """What a committed batch did: the loader's summary and the number of users whose θ moved."""

    summary: IngestSummary
    thetas: int


class BatchLander:
    """Writes batches of deliveries; holds the item bank between batches."""

    def __init__(self, engine: Engine, settings: Settings, source: str) -> None:
        self.engine, self.settings, self.source = engine, settings, source
        self.bank = BankCache(settings.mirt_version, settings.mirt_version)

    def land(self, deliveries: Sequence[Delivery]) -> Landed:
        """Check, load and rescore in one transaction; returns after the commit (raises if it failed)."""
        now = datetime.now(UTC)
        settings = self.settings
        window = DateWindow.around(now, settings.ingest_min_date, settings.ingest_max_future_days)
        records = checked_records(
            deliveries, window, settings.stream_max_event_bytes, settings.stream_max_deliver
        )
        rows = [record for record in records if isinstance(record, ExamResultRow)]
        with self.engine.begin() as connection:
            stored = read_stored_versions(connection, [row.session_id for row in rows])
            sessions = latest_session_per_user(landed_rows(rows, stored))
            summary = load_exam_results_in(connection, records, self.source)
            thetas = update_thetas(
                connection, self.bank.get(connection), sessions, settings.mirt_version, now
            )
        return Landed(summary, thetas)
