"""bucket_problem: one line for a missing bucket, refused credentials or an unreachable endpoint."""

from __future__ import annotations

import pytest
from tests.s3_server import S3Server, s3_server  # noqa: F401 - the session fixture

from dreamseed.storage.bucket_check import bucket_problem


@pytest.fixture
def credentials(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:  # noqa: F811
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    return s3_server


def test_an_existing_bucket_has_no_problem(credentials: S3Server) -> None:
    assert bucket_problem(credentials.new_bucket(), credentials.region, credentials.endpoint_url) is None


def test_a_missing_bucket_is_one_line(credentials: S3Server) -> None:
    problem = bucket_problem("nope", credentials.region, credentials.endpoint_url)
    assert problem is not None
    assert "'nope' does not exist" in problem
    assert "S3_BUCKET" in problem
    assert "\n" not in problem


def test_refused_credentials_are_one_line(credentials: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "a-wrong-secret")
    problem = bucket_problem(credentials.new_bucket(), credentials.region, credentials.endpoint_url)
    assert problem is not None
    assert "refused" in problem or "cannot be used" in problem
    assert "\n" not in problem


def test_an_unreachable_endpoint_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    problem = bucket_problem("reports", "us-east-1", "http://127.0.0.1:1", timeout=1)
    assert problem is not None
    assert "cannot reach S3" in problem
    assert "S3_ENDPOINT_URL" in problem
