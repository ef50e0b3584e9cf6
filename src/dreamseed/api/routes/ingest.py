"""`POST /api/seedtest/exam-results`: the platform posts finished exam sessions straight in.

The same checks and loader as `dreamseed ingest exam-results` (one transaction per request):
sessions are upserted by session_id (a newer updated_at wins), attempts are materialised, and
every malformed record or question is reported with its position and kept in ingest_quarantine.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Body, Depends

from dreamseed.api.deps import Service, require_token
from dreamseed.ingest.records import check_exam_result
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
    checked = (
        check_exam_result(position, orjson.dumps(record).decode())
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
