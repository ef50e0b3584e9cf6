"""Where rendered reports go: a local directory or an S3 bucket, behind one small interface.

Both stores take a key (``reports/{user_id}/{week_start}/report.html``), the bytes and a
Content-Type, and return the URL recorded in ``report_artifacts``:

- `LocalDirectoryStore`: the file ``root/key``, written atomically (temporary file, then rename), so
  a reader never sees half a report and a re-run overwrites cleanly; URL = the absolute file path.
- `S3Store`: ``PutObject`` with the Content-Type; URL = ``s3://bucket/key`` (valid for AWS and for
  S3-compatible servers alike; a presigned or public https URL can be derived from it). Credentials
  come from boto3's standard chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, profiles, roles).

Stores are picklable (worker processes receive them); the boto3 client is created once per
process, on first use. `put_with_retries` retries a failed write with exponential backoff.

For the clean-up after a run that did not finish, a store also lists the keys of one report week
(``week_keys``; the local store includes the temporary files of writes cut short) and deletes a
key. Keys put the user before the week, so the S3 store lists every report key and keeps the
week's: generate-weekly-report only does it after an unfinished run of that week.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, unquote

CONTENT_TYPES: dict[str, str] = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
"""Content-Type per report format."""
UPLOAD_ATTEMPTS = 3
FIRST_BACKOFF_SECONDS = 0.5


class ObjectStore(Protocol):
    """Somewhere to put report files; ``put`` returns the stored object's URL or raises."""

    @property
    def description(self) -> str: ...

    def put(self, key: str, body: bytes, content_type: str) -> str: ...

    def url(self, key: str) -> str: ...

    def week_keys(self, week_start: date) -> list[str]: ...

    def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class StoredObject:
    """One stored file: its key, URL, size in bytes and SHA-256 (hex) of the bytes."""

    key: str
    url: str
    bytes: int
    sha256: str


class StoreError(RuntimeError):
    """A write that still failed after every attempt."""


def key_segment(value: str) -> str:
    """``value`` (non-empty) as one safe path segment: percent-encoded, never '.' or '..', no '/'."""
    if not value:
        raise ValueError("an object key segment cannot be empty")
    segment = quote(value, safe="-_.~@+=,")
    return "%2E" + segment[1:] if segment.startswith(".") else segment


def report_key(user_id: str, week_start: date, report_format: str) -> str:
    """``reports/{user_id}/{week_start}/report.{format}`` (user_id percent-encoded when needed)."""
    return f"reports/{key_segment(user_id)}/{week_start.isoformat()}/report.{report_format}"


def key_user(key: str) -> str:
    """The user id of a ``reports/{user_id}/…`` key (undoing `key_segment`)."""
    return unquote(key.split("/")[1])


class LocalDirectoryStore:
    """Files under ``root`` (the key is the relative path); URL = the file's absolute path."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).absolute()

    @property
    def description(self) -> str:
        return f"directory {self.root}"

    def put(self, key: str, body: bytes, content_type: str) -> str:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(body)
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return self.url(key)

    def url(self, key: str) -> str:
        return str(self.root / key)

    def week_keys(self, week_start: date) -> list[str]:
        """Every file (temporary ones included) under ``reports/*/{week_start}/``."""
        found = (self.root / "reports").glob(f"*/{week_start.isoformat()}/*")
        return sorted(str(path.relative_to(self.root)) for path in found if path.is_file())

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)


class S3Store:
    """Objects in an S3 bucket (AWS or an S3-compatible server at ``endpoint_url``)."""

    def __init__(
        self,
        bucket: str,
        region: str,
        endpoint_url: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
    ) -> None:
        self.bucket = bucket
        self.region = region
        self.endpoint_url = endpoint_url
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._client: Any = None

    @property
    def description(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"s3://{self.bucket} (region {self.region}{where})"

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_client": None}  # each process makes its own client

    def client(self) -> Any:
        """This process's boto3 S3 client (created on first use; retries are ours, not botocore's)."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                retries={"total_max_attempts": 1},
            )
            # A session of its own: credentials are resolved now, not cached from another client.
            session = boto3.session.Session()
            self._client = session.client(
                "s3", region_name=self.region, endpoint_url=self.endpoint_url, config=config
            )
        return self._client

    def put(self, key: str, body: bytes, content_type: str) -> str:
        self.client().put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        return self.url(key)

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def week_keys(self, week_start: date) -> list[str]:
        """The keys ``reports/*/{week_start}/*`` (lists every key under ``reports/``)."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix="reports/")
        week = f"/{week_start.isoformat()}/"
        return sorted(
            item["Key"] for page in pages for item in page.get("Contents", ()) if week in item["Key"]
        )

    def delete(self, key: str) -> None:
        self.client().delete_object(Bucket=self.bucket, Key=key)


def put_with_retries(
    store: ObjectStore,
    key: str,
    body: bytes,
    content_type: str,
    attempts: int = UPLOAD_ATTEMPTS,
    first_backoff_s: float = FIRST_BACKOFF_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> StoredObject:
    """Put ``body`` at ``key``, retrying up to ``attempts`` times with exponential backoff
    (``first_backoff_s``, then doubled); raises `StoreError` naming the last error."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    for attempt in range(1, attempts + 1):
        try:
            url = store.put(key, body, content_type)
        except Exception as error:
            if attempt == attempts:
                raise StoreError(
                    f"storing {key} failed after {attempts} attempts: {type(error).__name__}: {error}"
                ) from error
            sleep(first_backoff_s * 2 ** (attempt - 1))
        else:
            return StoredObject(key, url, len(body), hashlib.sha256(body).hexdigest())
    raise AssertionError("unreachable")
