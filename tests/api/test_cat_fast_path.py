"""The next-item and answer fast path (dreamseed.api.cat_fast_paths) answers as the FastAPI routes do
(same items, θ, reasons and cat_events rows), leaves every 4xx to the routes, needs neither the
engine nor a worker thread once the bank is loaded, and survives a dropped database connection
without losing a served item or an answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text
from tests.api.server import serving
from tests.api.test_cat_endpoints import ANSWER, NEXT, events, put_bank

from dreamseed.api.app import create_app
from dreamseed.settings import Settings

TOKEN = "cat-fast-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EVENT_COLUMNS = (
    "item_id", "position", "topic_id", "policy", "reason", "theta_before", "se_before", "rejected",
    "version", "start", "prior_mean", "correct", "theta_after", "se_after",
)  # fmt: skip


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    put_bank(engine)
    guarded = settings.model_copy(update={"r_irt_internal_token": SecretStr(TOKEN)})
    return create_app(guarded, engine, item_bank_check_secs=60)


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    with serving(app) as url:
        yield url


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    return client.post(path, json=body, headers=AUTH)


def _session(client: httpx.Client, session: str, items: int) -> list[dict[str, Any]]:
    """next-item → answer (right on even positions) until the stop; every answer as JSON."""
    body = {"user_id": "u1", "session_id": session, "max_items": items, "exclude_answered_days": 0}
    answers: list[dict[str, Any]] = []
    for position in range(items + 1):
        step = _post(client, NEXT, body)
        assert step.status_code == 200, step.text
        answers.append(step.json())
        if step.json()["stop"]:
            return answers
        answer = _post(
            client, ANSWER, {**body, "item_id": step.json()["item_id"], "correct": position % 2 == 0}
        )
        assert answer.status_code == 200, answer.text
        answers.append(answer.json())
    raise AssertionError("the session never stopped")


def _without_fast_pool(app: FastAPI) -> Any:
    class Routed:
        def __enter__(self) -> None:
            self.pool, app.state.service.fast_pool = app.state.service.fast_pool, None

        def __exit__(self, *_: object) -> None:
            app.state.service.fast_pool = self.pool

    return Routed()


def _comparable(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kept = []
    for answer in answers:
        assert answer.pop("session_id") in {"fast", "routed"}
        if "answered_at" in answer:
            assert answer.pop("answered_at").endswith("Z")
        kept.append(answer)
    return kept


def test_a_session_answers_as_the_routes_answer(app: FastAPI, base_url: str, engine: Engine) -> None:
    with httpx.Client(base_url=base_url) as client:
        fast = _session(client, "fast", 6)
        with _without_fast_pool(app):
            routed = _session(client, "routed", 6)
    assert len(fast) == 13  # six items and answers, then the stop
    assert fast[-1]["stop_reason"] == "max_items"
    assert _comparable(fast) == _comparable(routed)
    rows = {session: events(engine, session) for session in ("fast", "routed")}
    assert [[row[c] for c in EVENT_COLUMNS] for row in rows["fast"]] == [
        [row[c] for c in EVENT_COLUMNS] for row in rows["routed"]
    ]


BAD_CALLS = [
    (NEXT, {"user_id": "nobody", "session_id": "x"}, 404),
    (NEXT, {"user_id": "u1", "session_id": "x", "topic": "poetry"}, 404),
    (NEXT, {"user_id": "u1", "session_id": "x", "answers_so_far": [{"item_id": "9", "correct": True}]}, 400),
    (NEXT, {"user_id": "u1", "session_id": "x", "answers_so_far": [{"item_id": "500"}]}, 422),
    (NEXT, {"user_id": "u1", "session_id": "x", "policy": "quiz"}, 422),
    (NEXT, {"user_id": "", "session_id": "x"}, 422),
    (ANSWER, {"user_id": "u1", "session_id": "x", "item_id": "500", "correct": True}, 404),
    (ANSWER, {"user_id": "u1", "session_id": "x", "item_id": "500"}, 422),
]


@pytest.mark.parametrize(("path", "body", "status"), BAD_CALLS)
def test_every_4xx_is_the_routes_own(
    app: FastAPI, base_url: str, path: str, body: dict[str, Any], status: int
) -> None:
    with httpx.Client(base_url=base_url) as client:
        fast = _post(client, path, body)
        with _without_fast_pool(app):
            routed = _post(client, path, body)
    assert (fast.status_code, routed.status_code) == (status, status)
    assert fast.json() == routed.json()
    assert "error" in fast.json()


def test_the_token_a_second_answer_and_the_metrics(base_url: str) -> None:
    body = {"user_id": "u1", "session_id": "s1"}
    with httpx.Client(base_url=base_url) as client:
        assert client.post(NEXT, json=body).status_code == 401
        assert client.post(NEXT, json=body, headers={"Authorization": "Bearer no"}).status_code == 403
        item = _post(client, NEXT, body).json()["item_id"]
        first = _post(client, ANSWER, {**body, "item_id": item, "correct": True})
        second = _post(client, ANSWER, {**body, "item_id": item, "correct": False})
        metrics = client.get("/metrics", headers=AUTH).text
    assert (first.status_code, second.status_code) == (200, 409)
    assert second.json() == {"error": f"item {item!r} is already answered in this session"}
    assert f'dreamseed_http_requests_total{{method="POST",route="{NEXT}",status="200"}} 1.0' in metrics
    assert f'dreamseed_http_requests_total{{method="POST",route="{ANSWER}",status="200"}} 1.0' in metrics
    assert f'dreamseed_http_requests_total{{method="POST",route="{ANSWER}",status="409"}} 1.0' in metrics


def test_once_the_bank_is_loaded_the_engine_is_not_needed(app: FastAPI, base_url: str) -> None:
    body = {"user_id": "u1", "session_id": "s1"}
    with httpx.Client(base_url=base_url) as client:
        item = _post(client, NEXT, body).json()["item_id"]  # loads the bank through the engine
        service = app.state.service
        engine, service.engine = service.engine, create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
        try:
            answered = _post(client, ANSWER, {**body, "item_id": item, "correct": True})
            following = _post(client, NEXT, body)
        finally:
            service.engine.dispose()
            service.engine = engine
    assert (answered.status_code, following.status_code) == (200, 200)
    assert following.json()["n_answered"] == 1


def test_a_dropped_connection_is_retried_and_nothing_is_lost(base_url: str, engine: Engine) -> None:
    body = {"user_id": "u1", "session_id": "s1", "exclude_answered_days": 0}
    served = []
    with httpx.Client(base_url=base_url) as client:
        for k in range(4):
            if k % 2 == 1:
                with engine.connect() as connection:  # what a database restart or an idle timeout does
                    dropped = connection.execute(
                        text(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                            "AND backend_type = 'client backend'"
                        )
                    ).scalar_one()
                assert dropped >= 1
            step = _post(client, NEXT, body)
            assert step.status_code == 200, step.text
            served.append(step.json()["item_id"])
            answer = _post(client, ANSWER, {**body, "item_id": served[-1], "correct": k == 0})
            assert answer.status_code == 200, answer.text
            assert answer.json()["n_answered"] == k + 1
    rows = events(engine, "s1")
    assert [row["item_id"] for row in rows] == served
    assert [row["correct"] for row in rows] == [True, False, False, False]
