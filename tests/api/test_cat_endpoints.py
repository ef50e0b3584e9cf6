"""POST /api/seedtest/analysis/irt/next-item and …/irt/answer over real HTTP against a real
database: a session driven to its stop, cat_events rows, exposure control, and each bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import HTTPException
from sqlalchemy import Engine, text
from tests.api.server import serving

from dreamseed.api.app import create_app
from dreamseed.api.cat_service import exposure_parameters
from dreamseed.cat import ItemBank, Policy, estimate
from dreamseed.settings import Settings

NEXT = "/api/seedtest/analysis/irt/next-item"
ANSWER = "/api/seedtest/analysis/irt/answer"
ITEMS = list(range(500, 560))
TOPICS = ("algebra", "geometry")


def put_bank(engine: Engine) -> ItemBank:
    """60 calibrated 2PL items (b from −2.5 to 2.5) with questions of two topics, and user u1."""
    rng = np.random.default_rng(5)
    a, b = rng.uniform(0.8, 2.0, len(ITEMS)), np.linspace(-2.5, 2.5, len(ITEMS))
    topic = [TOPICS[k % 2] for k in range(len(ITEMS))]
    with engine.begin() as connection:
        for item, slope, difficulty, name in zip(ITEMS, a, b, topic, strict=True):
            connection.execute(
                text(
                    "INSERT INTO mirt_item_params (item_id, model, params, version, run_id) "
                    "VALUES (:i, '2PL', CAST(:p AS jsonb), 'v1', 'run-1')"
                ),
                {"i": str(item), "p": json.dumps({"a": float(slope), "b": float(difficulty), "c": 0.0})},
            )
            connection.execute(
                text("INSERT INTO question (id, topic_id) VALUES (:i, :t)"), {"i": item, "t": name}
            )
        add_user(connection, "u1")
    return ItemBank.from_arrays([str(i) for i in ITEMS], a, b, np.zeros(len(ITEMS)), topic)


def add_user(connection: object, user: str) -> None:
    connection.execute(  # type: ignore[attr-defined]
        text("INSERT INTO session (id, user_id, status) VALUES (:s, :u, 'done')"),
        {"s": f"{user}-0", "u": user},
    )


def events(engine: Engine, session: str = "s1") -> list[dict[str, object]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT * FROM cat_events WHERE session_id = :s ORDER BY id"), {"s": session}
        ).mappings()
        return [dict(row) for row in rows]


@pytest.fixture
def bank(engine: Engine) -> ItemBank:
    return put_bank(engine)


@pytest.fixture
def base_url(settings: Settings, engine: Engine, bank: ItemBank) -> Iterator[str]:
    with serving(create_app(settings, engine, item_bank_check_secs=0)) as url:
        yield url


def drive(base_url: str, truth: float, body: dict[str, object], seed: int = 0) -> list[dict[str, Any]]:
    """next-item → answer → … until stop; right with probability 1 / (1 + e^−truth)."""
    rng = np.random.default_rng(seed)
    steps: list[dict[str, Any]] = []
    with httpx.Client(base_url=base_url) as client:
        for _ in range(100):
            step = client.post(NEXT, json=body)
            assert step.status_code == 200, step.text
            steps.append(step.json())
            if step.json()["stop"]:
                return steps
            correct = bool(rng.random() < 1 / (1 + np.exp(-(truth - 0.0))))
            answer = client.post(
                ANSWER, json={**{k: body[k] for k in ("user_id", "session_id")},
                              "item_id": step.json()["item_id"], "correct": correct},
            )  # fmt: skip
            assert answer.status_code == 200, answer.text
            steps[-1]["answer"] = answer.json()
    raise AssertionError("the session never stopped")


def test_a_session_runs_end_to_end_and_every_item_served_is_recorded(
    base_url: str, engine: Engine, bank: ItemBank
) -> None:
    steps = drive(base_url, 0.5, {"user_id": "u1", "session_id": "s1", "policy": "test", "max_items": 8})
    served, last = steps[:-1], steps[-1]
    assert last["status"] == "stop"
    assert last["item_id"] is None
    assert last["stop_reason"] in {"se", "max_items"}
    assert last["n_answered"] == len(served)
    assert len({s["item_id"] for s in served}) == len(served)
    rows = events(engine)
    assert [r["item_id"] for r in rows] == [s["item_id"] for s in served]
    assert [r["position"] for r in rows] == list(range(len(served)))
    assert all(r["policy"] == "test" and r["user_id"] == "u1" and r["correct"] is not None for r in rows)
    assert rows[0]["theta_before"] == pytest.approx(0.0, abs=1e-6)
    assert rows[0]["se_before"] == pytest.approx(served[0]["se"])
    assert str(rows[0]["reason"]).startswith("maximum information")
    for before, after in zip(rows[1:], rows[:-1], strict=True):
        assert before["theta_before"] == pytest.approx(after["theta_after"])  # θ updated per answer
    index = {item: k for k, item in enumerate(bank.items.item_id.tolist())}
    items = np.array([index[str(r["item_id"])] for r in rows])
    theta, se = estimate(bank, items, np.array([bool(r["correct"]) for r in rows]), Policy())
    assert last["theta"] == pytest.approx(theta)
    assert last["se"] == pytest.approx(se)
    assert served[-1]["answer"]["theta"] == pytest.approx(theta)
    assert served[-1]["answer"]["n_answered"] == len(served)


def test_practice_within_a_topic_serves_items_near_the_target(base_url: str, engine: Engine) -> None:
    body = {"user_id": "u1", "session_id": "s1", "policy": "practice", "topic": "geometry", "target_p": 0.7}
    steps = drive(base_url, 0.0, {**body, "max_items": 5})
    assert {s["topic"] for s in steps[:-1]} == {"geometry"}
    assert all(abs(float(s["p_correct"]) - 0.7) < 0.15 for s in steps[:-1])
    assert {r["topic_id"] for r in events(engine)} == {"geometry"}


def test_answers_so_far_from_the_request_are_the_sessions_answers(base_url: str, bank: ItemBank) -> None:
    given = [{"item_id": "530", "correct": True}, {"item_id": "531", "correct": False}]
    step = httpx.post(base_url + NEXT, json={"user_id": "u1", "session_id": "s9", "answers_so_far": given})
    assert step.status_code == 200
    theta, se = estimate(bank, np.array([30, 31]), np.array([True, False]), Policy())
    assert (step.json()["theta"], step.json()["se"], step.json()["n_answered"]) == (
        pytest.approx(theta), pytest.approx(se), 2,
    )  # fmt: skip
    assert step.json()["item_id"] not in {"530", "531"}


def test_an_item_served_and_not_answered_is_not_served_again(base_url: str, engine: Engine) -> None:
    body = {"user_id": "u1", "session_id": "s1"}
    first = httpx.post(base_url + NEXT, json=body).json()["item_id"]
    second = httpx.post(base_url + NEXT, json=body).json()["item_id"]
    assert first != second
    assert len(events(engine)) == 2


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"user_id": "nobody", "session_id": "s1"}, 404, "unknown user"),
        ({"user_id": "u1", "session_id": "s1", "topic": "chemistry"}, 404, "has no items"),
        ({"user_id": "u1", "session_id": "s1", "answers_so_far": {"item_id": "500"}}, 422, "answers_so_far"),
        ({"user_id": "u1", "session_id": "s1", "answers_so_far": [["500", True]]}, 422, "answers_so_far"),
        ({"user_id": "u1", "session_id": "s1", "answers_so_far": [{"item_id": "500"}]}, 422, "correct"),
        ({"user_id": "u1", "session_id": "s1", "answers_so_far": [{"item_id": "9", "correct": 1}]}, 400, "not in"),
        (
            {"user_id": "u1", "session_id": "s1",
             "answers_so_far": [{"item_id": "500", "correct": True}, {"item_id": "500", "correct": False}]},
            400, "answered twice",
        ),
        ({"user_id": "u1", "session_id": "s1", "policy": "exam"}, 422, "policy"),
        ({"user_id": "", "session_id": "s1"}, 422, "user_id"),
        ({"user_id": "u1"}, 422, "session_id"),
    ],
)  # fmt: skip
def test_bad_next_item_requests_get_a_clear_4xx(
    base_url: str, engine: Engine, body: dict[str, object], status: int, message: str
) -> None:
    answer = httpx.post(base_url + NEXT, json=body)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["error"]
    assert events(engine) == []


def test_bad_answers_get_a_clear_4xx(base_url: str, engine: Engine) -> None:
    body = {"user_id": "u1", "session_id": "s1"}
    never = httpx.post(base_url + ANSWER, json={**body, "item_id": "500", "correct": True})
    assert never.status_code == 404
    assert "was not served" in never.json()["error"]
    item = httpx.post(base_url + NEXT, json=body).json()["item_id"]
    assert httpx.post(base_url + ANSWER, json={**body, "item_id": item, "correct": True}).status_code == 200
    twice = httpx.post(base_url + ANSWER, json={**body, "item_id": item, "correct": False})
    assert twice.status_code == 409
    assert "already answered" in twice.json()["error"]
    assert (
        httpx.post(base_url + ANSWER, json={**body, "item_id": item, "correct": "maybe"}).status_code == 422
    )
    assert [r["correct"] for r in events(engine)] == [True]


def test_an_empty_bank_is_a_409(settings: Settings, engine: Engine) -> None:
    with engine.begin() as connection:
        add_user(connection, "u1")
    with serving(create_app(settings, engine, item_bank_check_secs=0)) as url:
        answer = httpx.post(url + NEXT, json={"user_id": "u1", "session_id": "s1"})
    assert answer.status_code == 409
    assert "empty" in answer.json()["error"]


def test_the_endpoints_need_the_token(
    database_url: str, tmp_path: Path, engine: Engine, bank: ItemBank
) -> None:
    secured = Settings(database_url=database_url, dreamseed_home=tmp_path, r_irt_internal_token="t0k")
    with serving(create_app(secured, engine, item_bank_check_secs=0)) as url:
        body = {"user_id": "u1", "session_id": "s1"}
        assert httpx.post(url + NEXT, json=body).status_code == 401
        assert httpx.post(url + NEXT, json=body, headers={"Authorization": "Bearer no"}).status_code == 403
        ok = httpx.post(url + NEXT, json=body, headers={"Authorization": "Bearer t0k"})
        assert ok.status_code == 200
        item = {**body, "item_id": ok.json()["item_id"], "correct": True}
        assert httpx.post(url + ANSWER, json=item).status_code == 401


def test_sympson_hetter_rejections_are_recorded_and_ruled_out_for_the_session(
    database_url: str, tmp_path: Path, engine: Engine, bank: ItemBank
) -> None:
    k_file = tmp_path / "K.csv"
    k_file.write_text("item_id,k\n" + "".join(f"{i},0.0\n" for i in range(520, 540)), encoding="utf-8")
    settings = Settings(
        database_url=database_url, dreamseed_home=tmp_path, cat_exposure="sympson-hetter",
        cat_exposure_parameters=k_file, cat_se_stop=0,
    )  # fmt: skip
    with serving(create_app(settings, engine, item_bank_check_secs=0)) as url:
        drive(url, 0.0, {"user_id": "u1", "session_id": "s1", "max_items": 6})
    rows = events(engine)
    assert len(rows) == 6
    served = {str(r["item_id"]) for r in rows}
    rejected = {item for r in rows for item in r["rejected"]}  # type: ignore[attr-defined]
    assert rejected
    assert rejected <= {str(i) for i in range(520, 540)}
    assert not served & rejected


def test_sympson_hetter_without_its_k_file_is_a_503(
    database_url: str, tmp_path: Path, engine: Engine, bank: ItemBank
) -> None:
    settings = Settings(database_url=database_url, dreamseed_home=tmp_path, cat_exposure="sympson-hetter")
    with serving(create_app(settings, engine, item_bank_check_secs=0)) as url:
        answer = httpx.post(url + NEXT, json={"user_id": "u1", "session_id": "s1"})
    assert answer.status_code == 503
    assert "CAT_EXPOSURE_PARAMETERS" in answer.json()["error"]


def test_the_openapi_schema_documents_bodies_and_errors(base_url: str) -> None:
    paths = httpx.get(base_url + "/openapi.json").json()["paths"]
    next_item, answer = paths[NEXT]["post"], paths[ANSWER]["post"]
    assert {"400", "401", "404", "409", "422"} <= set(next_item["responses"])
    assert {"401", "404", "409", "422"} <= set(answer["responses"])
    schema = next_item["requestBody"]["content"]["application/json"]["schema"]
    assert {"user_id", "session_id", "policy", "topic", "answers_so_far"} <= set(schema["properties"])
    assert "$ref" not in json.dumps(schema)


def test_exposure_parameters_come_from_the_k_file_and_default_to_one(tmp_path: Path) -> None:
    k_file = tmp_path / "K.csv"
    k_file.write_text("item_id,k\n501,0.4\n502,1.7\n999,0.1\n", encoding="utf-8")
    k = exposure_parameters(k_file, np.array(["500", "501", "502"], dtype=object))
    assert k.tolist() == [1.0, 0.4, 1.0]
    broken = tmp_path / "broken.csv"
    broken.write_text("item_id,weight\n501,0.4\n", encoding="utf-8")
    with pytest.raises(HTTPException, match="CAT_EXPOSURE_PARAMETERS"):
        exposure_parameters(broken, np.array(["501"], dtype=object))
