"""`POST /api/seedtest/exam-results`: the platform posts finished exam sessions straight in.

The same validator (`check_exam_document`, which `dreamseed ingest exam-results` applies to each
parsed line) and the same loader (one transaction per request):
sessions are upserted by session_id (a newer updated_at wins), attempts are materialised, and
every malformed record or question is reported with its position and kept in ingest_quarantine.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Body, Depends

from dreamseed.api.deps import Service, require_token
from dreamseed.ingest.limits import DateWindow
from dreamseed.ingest.records import check_exam_document
from dreamseed.storage.ingest import load_exam_results

router = APIRouter(prefix="/api/seedtest", tags=["ingestion"], dependencies=[Depends(require_token)])
MAX_RECORDS = 10_000


@router.post("/exam-results")
def post_exam_results(
    service: Service,
    records: list[dict[str, Any]] = Body(  # noqa: B008 (FastAPI's way to declare a body)
        ...,
        max_length=MAX_RECORDS,
        description="Exam results in the platform's export shape (one per session).",
    ),
) -> dict[str, Any]:
    """Load exam results; `status` is `ok`, or `partial` when some records or questions were rejected
    (`rejected` lists them with the 1-based position of the record in the request)."""
    settings = service.settings
    window = DateWindow.around(datetime.now(UTC), settings.ingest_min_date, settings.ingest_max_future_days)
    checked = (
        check_exam_document(position, record, _raw(record), window)
        for position, record in enumerate(records, start=1)
    )
    summary = load_exam_results(service.engine, checked, "api")
    return {
        "status": "partial" if summary.rejected else "ok",
        "received": summary.read,
        "inserted": summary.inserted,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "rejected": [
            {"record": r.line_no, "session_id": r.session_id, "reason": r.reason} for r in summary.rejected
        ],
    }


def _raw(record: dict[str, Any]) -> str:
    """The record as posted, for the quarantine (NaN and Infinity spelled as the client sent them)."""
    try:
        return json.dumps(record, ensure_ascii=False, default=str)
    except (RecursionError, ValueError):
        return repr(record)[:10_000]
