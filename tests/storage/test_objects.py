"""Report object stores: the local directory, a real S3-compatible server (SeaweedFS), keys, retries."""

from __future__ import annotations

import hashlib
import pickle
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st
from tests.s3_server import S3Server, s3_server  # noqa: F401 - the session fixture

from dreamseed.storage.objects import (
    CONTENT_TYPES,
    LocalDirectoryStore,
    S3Store,
    StoreError,
    key_segment,
    put_with_retries,
    report_key,
)


def test_report_key_layout() -> None:
    assert report_key("u-1", date(2026, 11, 16), "pdf") == "reports/u-1/2026-11-16/report.pdf"


@given(st.text(min_size=1, max_size=40))
def test_any_user_id_is_one_safe_segment_that_decodes_back(user_id: str) -> None:
    segment = key_segment(user_id)
    assert "/" not in segment
    assert segment not in (".", "..")
    assert unquote(segment) == user_id


def test_local_store_writes_atomically_and_overwrites(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path / "out")
    key = report_key("../../escape", date(2026, 11, 16), "html")
    url = store.put(key, b"first", CONTENT_TYPES["html"])
    path = Path(url)
    assert path.is_absolute()
    assert path.read_bytes() == b"first"
    assert path.is_relative_to(tmp_path / "out" / "reports")
    assert store.put(key, b"second", CONTENT_TYPES["html"]) == url
    assert path.read_bytes() == b"second"
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]  # no temporary files left


class FlakyStore:
    """Fails the first ``failures`` writes, then stores in memory."""

    description = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.saved: dict[str, bytes] = {}

    def put(self, key: str, body: bytes, content_type: str) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"transient failure {self.calls}")
        self.saved[key] = body
        return self.url(key)

    def url(self, key: str) -> str:
        return f"mem://{key}"

    def week_keys(self, week_start: date) -> list[str]:
        return [key for key in self.saved if f"/{week_start.isoformat()}/" in key]

    def delete(self, key: str) -> None:
        self.saved.pop(key, None)


def test_a_failed_write_is_retried_with_exponential_backoff() -> None:
    store = FlakyStore(failures=2)
    sleeps: list[float] = []
    stored = put_with_retries(
        store, "k", b"body", "text/plain", attempts=3, first_backoff_s=0.5, sleep=sleeps.append
    )
    assert sleeps == [0.5, 1.0]
    assert store.calls == 3
    assert stored.url == "mem://k"
    assert stored.bytes == 4
    assert stored.sha256 == hashlib.sha256(b"body").hexdigest()


def test_a_write_that_keeps_failing_raises_after_the_last_attempt() -> None:
    store = FlakyStore(failures=10)
    sleeps: list[float] = []
    with pytest.raises(StoreError, match="after 3 attempts: ConnectionError: transient failure 3"):
        put_with_retries(
            store, "k", b"body", "text/plain", attempts=3, first_backoff_s=0.1, sleep=sleeps.append
        )
    assert store.calls == 3
    assert sleeps == [0.1, 0.2]
    assert not store.saved


@pytest.mark.slow
def test_s3_store_puts_objects_with_their_content_type(s3_server: S3Server) -> None:  # noqa: F811
    bucket = s3_server.new_bucket()
    store = S3Store(bucket, s3_server.region, s3_server.endpoint_url)
    store = pickle.loads(pickle.dumps(store))  # what a worker process receives
    body = "<!doctype html><p>주간 리포트</p>".encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
        patch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
        url = store.put("reports/u1/2026-11-16/report.html", body, CONTENT_TYPES["html"])
    assert url == f"s3://{bucket}/reports/u1/2026-11-16/report.html"
    stored = s3_server.client().get_object(Bucket=bucket, Key="reports/u1/2026-11-16/report.html")
    assert stored["Body"].read() == body
    assert stored["ContentType"] == "text/html; charset=utf-8"


@pytest.mark.slow
def test_s3_store_with_a_wrong_secret_fails_the_signature_check(s3_server: S3Server) -> None:  # noqa: F811
    bucket = s3_server.new_bucket()
    store = S3Store(bucket, s3_server.region, s3_server.endpoint_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
        patch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
        with pytest.raises(ClientError, match="SignatureDoesNotMatch"):
            store.put("reports/u1/2026-11-16/report.pdf", b"%PDF-", CONTENT_TYPES["pdf"])
    assert s3_server.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
