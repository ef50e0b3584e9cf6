"""The service over real HTTP (uvicorn on a loopback port): health, auth, validation, limits, metrics."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text
from tests.api.server import serving

from dreamseed import __version__
from dreamseed.api.app import create_app
from dreamseed.settings import Settings

TOKEN = "s3cret-token"
LSAT_LIKE = [[1, 0, 1], [1, 1, 1], [0, 0, 1], [1, 1, 0], [0, 1, None], [1, 0, 0], [0, 0, 0], [1, 1, 1]] * 5


@pytest.fixture
def base_url(settings: Settings, engine: Engine) -> Iterator[str]:
    with serving(create_app(settings, engine, item_bank_check_secs=0)) as url:
        yield url


@pytest.fixture
def secured_url(settings: Settings, engine: Engine) -> Iterator[str]:
    secured = settings.model_copy(update={"r_irt_internal_token": SecretStr(TOKEN)})
    with serving(create_app(secured, engine)) as url:
        yield url


@pytest.mark.parametrize("path", ["/healthz", "/health"])
def test_health_reports_version_and_database(base_url: str, path: str) -> None:
    answer = httpx.get(base_url + path)
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["database"] == "ok"


def test_health_says_when_the_database_is_unreachable(settings: Settings) -> None:
    unreachable = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_pre_ping=True)
    with serving(create_app(settings, unreachable)) as url:
        live, ready = httpx.get(url + "/healthz"), httpx.get(url + "/health")
    assert live.status_code == 200
    assert live.json()["database"] == "unreachable"
    assert ready.status_code == 503
    assert ready.json()["status"] == "degraded"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/irt/calibrate"),
        ("POST", "/irt/score"),
        ("POST", "/api/seedtest/analysis/irt/update-theta"),
        ("GET", "/metrics"),
    ],
)
def test_every_non_health_endpoint_needs_the_token(secured_url: str, method: str, path: str) -> None:
    body = {"item_params": [{"a": 1, "b": 0}], "responses": [[1]], "user_id": "u1", "observations": []}
    missing = httpx.request(method, secured_url + path, json=body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = httpx.request(method, secured_url + path, json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    basic = httpx.request(method, secured_url + path, json=body, headers={"Authorization": f"Basic {TOKEN}"})
    assert basic.status_code == 401
    right = httpx.request(method, secured_url + path, json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code not in (401, 403)


def test_health_and_docs_need_no_token(secured_url: str) -> None:
    assert httpx.get(secured_url + "/healthz").status_code == 200
    assert httpx.get(secured_url + "/health").status_code == 200
    spec = httpx.get(secured_url + "/openapi.json")
    assert spec.status_code == 200
    assert "/irt/calibrate" in spec.json()["paths"]
    assert httpx.get(secured_url + "/docs").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"observations": [{"user_id": "u", "item_id": "1"}]}, "observations.0.is_correct"),
        (
            {"observations": [{"user_id": "u", "item_id": "1", "is_correct": "yes"}]},
            "observations.0.is_correct",
        ),
        ({"observations": [{"user_id": True, "item_id": "1", "is_correct": 1}]}, "observations.0.user_id"),
        ({"responses": [[1, 0]], "model": "4PL"}, "model"),
        ({"responses": [[1, 0], [1]]}, "responses"),
        ({"responses": [[1, 2]]}, "responses.0.1"),
        (
            {"responses": [[1, 0]], "anchors": [{"item_id": "1", "params": {"a": -1, "b": 0}}]},
            "anchors.0.params.a",
        ),
    ],
)
def test_malformed_calibrate_bodies_get_422_naming_the_field(base_url: str, body: dict, field: str) -> None:
    answer = httpx.post(base_url + "/irt/calibrate", json=body)
    assert answer.status_code == 422
    assert field in answer.json()["error"]


def test_a_body_without_answers_gets_400(base_url: str) -> None:
    answer = httpx.post(base_url + "/irt/calibrate", json={"model": "2PL"})
    assert answer.status_code == 400
    assert "observations" in answer.json()["error"]
    assert "responses" in answer.json()["error"]


def test_invalid_json_gets_422(base_url: str) -> None:
    answer = httpx.post(
        base_url + "/irt/score", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422


@pytest.mark.parametrize("body", [{"session_id": "s"}, {"user_id": ""}, {"user_id": "  "}, {"user_id": None}])
def test_update_theta_needs_a_user_id_400_as_the_original(base_url: str, body: dict) -> None:
    answer = httpx.post(base_url + "/api/seedtest/analysis/irt/update-theta", json=body)
    assert answer.status_code == 400
    assert "user_id" in answer.json()["error"]


def test_too_large_bodies_are_refused(settings: Settings, engine: Engine) -> None:
    small = settings.model_copy(update={"api_max_calibrate_bytes": 2048})
    with serving(create_app(small, engine)) as url:
        declared = httpx.post(url + "/irt/calibrate", json={"responses": [[1, 0]] * 1000})
        assert declared.status_code == 413

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while reading
            yield b'{"responses": ['
            for _ in range(1000):
                yield b"[1, 0],"
            yield b"[1, 0]]}"

        streamed = httpx.post(
            url + "/irt/calibrate", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413
        assert httpx.post(url + "/irt/calibrate", json={"responses": LSAT_LIKE}).status_code == 200


def test_metrics_count_requests_by_route(base_url: str) -> None:
    httpx.get(base_url + "/healthz")
    httpx.post(base_url + "/irt/score", json={"item_params": [{"b": 0}], "responses": [[1]]})
    text = httpx.get(base_url + "/metrics").text
    assert 'dreamseed_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'dreamseed_http_request_duration_seconds_count{method="POST",route="/irt/score"} 1.0' in text


def test_metrics_carry_the_jobs_status_from_job_runs(base_url: str, engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO job_runs (run_id, job, status, started_at, finished_at, processed, failed, duration_ms, metrics) "
                "VALUES ('r1', 'mirt-calibrate', 'succeeded', now() - interval '2 min', now() - interval '1 min', "
                '10, 0, 1500, \'{"calibration_converged": 1.0, "calibration_loglik": -123.5}\'), '
                "('r2', 'mirt-calibrate', 'failed', now(), now(), 0, 0, 200, '{}')"
            )
        )
    text_ = httpx.get(base_url + "/metrics").text
    assert 'dreamseed_job_last_run_success{job_name="mirt-calibrate"} 0.0' in text_
    assert 'dreamseed_job_duration_seconds{job_name="mirt-calibrate"} 0.2' in text_
    assert 'dreamseed_calibration_converged{job_name="mirt-calibrate"} 1.0' in text_
    assert 'dreamseed_calibration_loglik{job_name="mirt-calibrate"} -123.5' in text_
    assert 'dreamseed_job_last_success_timestamp_seconds{job_name="mirt-calibrate"}' in text_
