"""The update-theta fast path (dreamseed.api.fast_paths) answers as the FastAPI route does, keeps the
token and size checks and the metrics, and survives a dropped database connection without losing an
update."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine, text
from tests.api.server import serving
from tests.api.test_update_theta import PATH, history, put_items
from tests.factories import load, steady_learner

from dreamseed.api.app import create_app
from dreamseed.settings import Settings

TOKEN = "fast-path-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    first = (datetime.now(UTC) - timedelta(days=20)).date().isoformat()
    load(engine, steady_learner("u1", first, 18) + steady_learner("u2", first, 5))
    put_items(engine)
    guarded = settings.model_copy(
        update={"r_irt_internal_token": SecretStr(TOKEN), "api_max_small_body_bytes": 4096}
    )
    return create_app(guarded, engine, item_bank_check_secs=60)


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    with serving(app) as url:
        yield url


def _post(base_url: str, body: dict[str, object], headers: dict[str, str] = AUTH) -> httpx.Response:
    return httpx.post(base_url + PATH, json=body, headers=headers)


def test_the_fast_answer_is_the_routes_answer(app: FastAPI, base_url: str, engine: Engine) -> None:
    body = {"user_id": "u1", "session_id": "s1", "lookback_days": 30}
    fast = _post(base_url, body)
    pool, app.state.service.fast_pool = app.state.service.fast_pool, None  # the FastAPI route answers
    try:
        routed = _post(base_url, {**body, "session_id": "s2"})
    finally:
        app.state.service.fast_pool = pool
    assert (fast.status_code, routed.status_code) == (200, 200)
    assert fast.headers["content-type"] == routed.headers["content-type"] == "application/json"
    one, two = fast.json(), routed.json()
    assert (one.pop("session_id"), two.pop("session_id")) == ("s1", "s2")
    assert one.pop("updated_at").endswith("Z")
    assert two.pop("updated_at").endswith("Z")
    assert one == two
    assert one["n_responses"] == 18 * 8
    assert [row[0] for row in history(engine, "u1")] == ["online-s1", "online-s2"]


def test_the_checks_still_hold(base_url: str, engine: Engine) -> None:
    assert _post(base_url, {"user_id": "u1"}, headers={}).status_code == 401
    assert _post(base_url, {"user_id": "u1"}, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert _post(base_url, {"user_id": ""}).status_code == 400
    assert _post(base_url, {"user_id": "u1", "lookback_days": 0}).status_code == 422
    assert _post(base_url, {"user_id": "u1", "version": "v9"}).status_code == 404
    not_json = httpx.post(
        base_url + PATH, content=b"{nope", headers={**AUTH, "content-type": "application/json"}
    )
    assert not_json.status_code == 422
    assert "error" in not_json.json()

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while the body streams in
        yield b'{"user_id": "u1", "session_id": "'
        yield b"x" * 8_000
        yield b'"}'

    streamed = httpx.post(
        base_url + PATH, content=chunks(), headers={**AUTH, "content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert "larger than" in streamed.json()["error"]
    assert history(engine, "u1") == []


def test_updates_are_counted_under_the_route(base_url: str) -> None:
    for user in ("u1", "u2", "nobody"):
        assert _post(base_url, {"user_id": user}).status_code == 200
    metrics = httpx.get(base_url + "/metrics", headers=AUTH).text
    assert f'dreamseed_http_requests_total{{method="POST",route="{PATH}",status="200"}} 3.0' in metrics
    assert 'dreamseed_theta_updates_total{status="ok"} 2.0' in metrics
    assert 'dreamseed_theta_updates_total{status="noop"} 1.0' in metrics


def test_a_dropped_connection_is_retried_and_nothing_is_lost(base_url: str, engine: Engine) -> None:
    assert _post(base_url, {"user_id": "u1", "session_id": "before"}).json()["status"] == "ok"
    with engine.connect() as connection:  # what a database restart or an idle timeout does
        dropped = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        ).scalar_one()
    assert dropped >= 1
    answers = [_post(base_url, {"user_id": "u1", "session_id": f"after-{k}"}) for k in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [row[0] for row in history(engine, "u1")] == [
        "online-before",
        "online-after-0",
        "online-after-1",
        "online-after-2",
    ]
