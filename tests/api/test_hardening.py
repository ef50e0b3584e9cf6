"""Issue #16 over real HTTP: the token and size checks come before the body is read, bounded JSON,
text without NUL or unpaired surrogates, no null θ, tag-only anchors calibrated freely."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from tests.api.server import serving
from tests.api.test_irt_endpoints import ITEMS, ROWS

from dreamseed.api import json_body
from dreamseed.api.app import create_app
from dreamseed.settings import Settings

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def secured_url(settings: Settings, engine: Engine) -> Iterator[str]:
    secured = settings.model_copy(update={"r_irt_internal_token": SecretStr(TOKEN)})
    with serving(create_app(secured, engine)) as url:
        yield url


def raw_request(base_url: str, head: str) -> bytes:
    """Send only the request line and headers (no body) and read the answer's first bytes."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(head.encode() + b"\r\n\r\n")
        return sock.recv(4096)


def declared_post(path: str, length: int, token: str | None = None) -> str:
    auth = f"\r\nAuthorization: Bearer {token}" if token else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}{auth}"
    )


def test_the_token_is_checked_before_the_body_is_read(secured_url: str) -> None:
    # 100 MB announced, none sent: the answer comes from the headers alone.
    answer = raw_request(secured_url, declared_post("/irt/calibrate", 100_000_000))
    assert answer.startswith(b"HTTP/1.1 401")
    wrong = raw_request(secured_url, declared_post("/irt/calibrate", 100_000_000, "nope"))
    assert wrong.startswith(b"HTTP/1.1 403")


def test_a_declared_size_over_the_limit_is_refused_before_reading(secured_url: str) -> None:
    answer = raw_request(secured_url, declared_post("/irt/calibrate", 65 * 1024 * 1024, TOKEN))
    assert answer.startswith(b"HTTP/1.1 413")
    small = raw_request(secured_url, declared_post("/irt/score", 2 * 1024 * 1024, TOKEN))
    assert small.startswith(b"HTTP/1.1 413")


def test_each_endpoint_has_its_own_body_limit(base_url: str) -> None:
    big_score = {"item_params": [{"b": 0}], "responses": [[1]], "pad": "x" * (1024 * 1024 + 1)}
    assert httpx.post(base_url + "/irt/score", json=big_score).status_code == 413
    theta = {"user_id": "u1", "pad": "x" * (1024 * 1024 + 1)}
    assert httpx.post(base_url + "/api/seedtest/analysis/irt/update-theta", json=theta).status_code == 413
    big_calibrate = {"responses": ROWS, "item_ids": ITEMS, "pad": "x" * (2 * 1024 * 1024)}
    assert httpx.post(base_url + "/irt/calibrate", json=big_calibrate, timeout=60).status_code == 200


@pytest.fixture
def base_url(settings: Settings, engine: Engine) -> Iterator[str]:
    with serving(create_app(settings, engine, item_bank_check_secs=0)) as url:
        yield url


def nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"item_params": [{"b": 0}], "responses": [[1]], "extra": nested(100)}, "nested deeper"),
        ({"item_params": [{"b": 0}], "responses": [[1]] * 10_001}, "elements"),
    ],
)
def test_json_depth_and_array_length_are_bounded(base_url: str, body: dict, reason: str) -> None:
    answer = httpx.post(base_url + "/irt/score", json=body)
    assert answer.status_code == 422
    assert reason in answer.json()["error"]


def test_health_answers_while_a_large_calibration_is_parsed(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/healthz is answered, several times, while a calibration body is still being checked, and
    the calibration then succeeds. No durations: the body's shape check (part of parsing, in
    ``json_body.parse_body``) is held open until three health checks have been answered. Were the
    body parsed on the event loop, the held check would hold the loop, no health check could be
    answered and the first one would time out."""
    parsing, released = threading.Event(), threading.Event()
    held: list[bool] = []
    check_shape = json_body.check_shape

    def held_check_shape(value: object, limits: json_body.JsonLimits) -> None:
        if isinstance(value, dict) and "observations" in value and not held:
            parsing.set()
            held.append(released.wait(timeout=60))
        check_shape(value, limits)

    monkeypatch.setattr(json_body, "check_shape", held_check_shape)
    observations = [
        {"user_id": f"user{k % 500}", "item_id": str(k % 50), "is_correct": (k * 7919) % 3 == 0}
        for k in range(20_000)
    ]
    body = json.dumps({"observations": observations, "model": "1PL"}).encode()
    answers: list[httpx.Response] = []

    def post() -> None:
        answers.append(
            httpx.post(
                base_url + "/irt/calibrate",
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=120,
            )
        )

    worker = threading.Thread(target=post)
    worker.start()
    try:
        assert parsing.wait(timeout=60), "the calibration body never reached its shape check"
        health = [httpx.get(base_url + "/healthz", timeout=10) for _ in range(3)]
        assert not answers  # still in flight: its parse is held until the health checks are answered
    finally:
        released.set()
        worker.join(timeout=120)
    assert [answer.status_code for answer in health] == [200, 200, 200]
    assert held == [True]  # released by the health checks, not by the hold's own timeout
    assert answers[0].status_code == 200
    assert len(answers[0].json()["item_params"]) == 50


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800", "x\udfff"])
@pytest.mark.parametrize(
    ("path", "body_of"),
    [
        ("/api/seedtest/analysis/irt/update-theta", lambda bad: {"user_id": bad}),
        ("/api/seedtest/analysis/irt/update-theta", lambda bad: {"user_id": "u1", "session_id": bad}),
        ("/api/seedtest/analysis/irt/update-theta", lambda bad: {"user_id": "u1", "version": bad}),
        ("/irt/calibrate", lambda bad: {"observations": [{"user_id": bad, "item_id": "1", "is_correct": 1}]}),
        ("/irt/score", lambda bad: {"item_params": [{"b": 0}], "responses": [[1]], "user_ids": [bad]}),
    ],
)
def test_nul_and_unpaired_surrogates_are_422_and_the_connection_lives(
    base_url: str, path: str, body_of: object, bad: str
) -> None:
    content = json.dumps(body_of(bad)).encode()  # type: ignore[operator]
    with httpx.Client(base_url=base_url) as client:
        answer = client.post(path, content=content, headers={"Content-Type": "application/json"})
        assert answer.status_code == 422
        assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("params", [{"a": 1e308, "b": 1e308}, {"a": 1e308, "b": -1e308, "c": 0.5}])
def test_a_theta_that_cannot_be_computed_is_422_never_null(base_url: str, params: dict) -> None:
    answer = httpx.post(base_url + "/irt/score", json={"item_params": [params], "responses": [[1]]})
    assert answer.status_code == 422
    assert "theta cannot be computed" in answer.json()["error"]


def test_a_tag_only_anchor_is_calibrated_freely_and_reported(base_url: str) -> None:
    body = {
        "responses": ROWS,
        "item_ids": ITEMS,
        "anchors": [{"item_id": "Item_3", "params": {}, "fixed": True}],
    }
    answer = httpx.post(base_url + "/irt/calibrate", json=body).json()
    free = httpx.post(base_url + "/irt/calibrate", json={"responses": ROWS, "item_ids": ITEMS}).json()
    assert answer["fit_meta"]["anchors_without_params"] == ["Item_3"]
    assert answer["fit_meta"]["model_spec"]["n_fixed"] == 0
    item = next(row for row in answer["item_params"] if row["item_id"] == "Item_3")
    expected = next(row for row in free["item_params"] if row["item_id"] == "Item_3")
    assert item["fixed"] is False
    assert item["status"] == "free: anchor had no parameters"
    assert item["params"] == pytest.approx(expected["params"])
    assert item["se"]["b"] > 0
    assert (item["params"]["a"], item["params"]["b"]) != (1.0, 0.0)


def test_an_anchor_with_b_only_is_held_with_a_1_and_c_0(base_url: str) -> None:
    body = {"responses": ROWS, "item_ids": ITEMS, "anchors": [{"item_id": "Item_3", "params": {"b": 0.5}}]}
    answer = httpx.post(base_url + "/irt/calibrate", json=body).json()
    item = next(row for row in answer["item_params"] if row["item_id"] == "Item_3")
    assert item["fixed"] is True
    assert item["params"] == pytest.approx({"a": 1.0, "b": 0.5, "c": 0.0})
    assert answer["fit_meta"]["anchors_without_params"] == []


def test_the_schema_documents_errors_and_the_metrics_content_type(base_url: str) -> None:
    spec = httpx.get(base_url + "/openapi.json").json()
    assert "text/plain" in spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    calibrate = spec["paths"]["/irt/calibrate"]["post"]
    assert {"400", "413", "422"} <= set(calibrate["responses"])
    assert calibrate["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "CalibrateRequest"
    )
    assert "CalibrateRequest" in spec["components"]["schemas"]
    assert "404" in spec["paths"]["/api/seedtest/analysis/irt/update-theta"]["post"]["responses"]
    assert "503" in spec["paths"]["/health"]["get"]["responses"]
