"""A student's stored weekly report, served through the console (local directory or S3)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi import HTTPException
from fastapi.responses import FileResponse, Response
from sqlalchemy import Connection

from dreamseed.settings import Settings
from dreamseed.storage import console as store
from dreamseed.storage.objects import S3Store

MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def report_response(
    connection: Connection, settings: Settings, user_id: str, week_start: str, report_format: str
) -> Response:
    """The report's bytes (the caller has checked that the viewer may see the student)."""
    try:
        week = date.fromisoformat(week_start)
    except ValueError as error:
        raise HTTPException(404, "no such report") from error
    if report_format not in MEDIA_TYPES:
        raise HTTPException(404, "no such report")
    row = store.read_report(connection, user_id, week, report_format)
    if row is None:
        raise HTTPException(404, "no such report")
    url = str(row["url"])
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    if url.startswith("s3://"):
        return _from_s3(settings, url, report_format, headers)
    root = Path(settings.reports_dir).resolve()
    path = Path(url).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(404, "the report file is not in the report directory")
    return FileResponse(path, media_type=MEDIA_TYPES[report_format], headers=headers)


def _from_s3(settings: Settings, url: str, report_format: str, headers: dict[str, str]) -> Response:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    store_ = S3Store(bucket, settings.aws_region, settings.s3_endpoint_url)
    try:
        body = store_.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as error:
        raise HTTPException(502, f"the report could not be read from S3: {type(error).__name__}") from error
    return Response(body, media_type=MEDIA_TYPES[report_format], headers=headers)
