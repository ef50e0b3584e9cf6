"""POST /irt/calibrate and /irt/score over real HTTP: the Plumber contract and the engine's numbers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from tests.api.server import serving
from tests.irt.test_irt_lsat import LSAT7, expand

from dreamseed.api.app import create_app
from dreamseed.irt import ItemParameters, Responses, calibrate, score
from dreamseed.settings import Settings

ROWS = [[int(ch) for ch in pattern] for pattern, n in LSAT7.items() for _ in range(n)]
ITEMS = [f"Item_{k}" for k in range(1, 6)]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The IRT endpoints need no database: one server for the module, on an engine never used."""
    from sqlalchemy import create_engine

    settings = Settings(database_url="postgresql://unused@127.0.0.1:1/none")
    with serving(create_app(settings, create_engine("postgresql+psycopg://unused@127.0.0.1:1/none"))) as url:
        yield url


def items_of(answer: dict) -> dict[str, dict[str, float]]:
    return {row["item_id"]: row["params"] for row in answer["item_params"]}


def test_a_response_matrix_gives_the_engine_calibration(base_url: str) -> None:
    answer = httpx.post(base_url + "/irt/calibrate", json={"responses": ROWS, "item_ids": ITEMS}).json()
    expected = calibrate(expand(LSAT7), "2PL")
    assert answer["status"] == "ok"
    assert answer["fit_meta"]["model_spec"] == {
        "model": "2PL",
        "n_persons": 1000,
        "n_items": 5,
        "n_obs": 5000,
        "n_fixed": 0,
    }
    assert answer["fit_meta"]["run_id"].startswith("irt-fit-")
    assert answer["fit_meta"]["linking_constants"] is None
    metrics = answer["fit_meta"]["metrics"]
    assert metrics["converged"] is True
    assert metrics["loglik"] == pytest.approx(expected.loglik)
    got = items_of(answer)
    for k, item in enumerate(expected.items.item_id):
        assert got[item]["a"] == pytest.approx(expected.items.a[k])
        assert got[item]["b"] == pytest.approx(expected.items.b[k])
    assert len(answer["abilities"]) == 1000
    assert answer["abilities"][0]["user_id"] == "1"
    assert answer["abilities"][0]["theta"] == pytest.approx(expected.abilities.theta[0])


def test_observations_and_the_matrix_give_the_same_items(base_url: str) -> None:
    observations = [
        {
            "user_id": f"u{i}",
            "item_id": ITEMS[j],
            "is_correct": bool(v),
            "responded_at": "2026-11-01T00:00:00Z",
        }
        for i, row in enumerate(ROWS)
        for j, v in enumerate(row)
    ]
    long = httpx.post(base_url + "/irt/calibrate", json={"observations": observations}).json()
    wide = httpx.post(base_url + "/irt/calibrate", json={"responses": ROWS, "item_ids": ITEMS}).json()
    for item, params in items_of(wide).items():
        assert items_of(long)[item]["b"] == pytest.approx(params["b"], abs=1e-6)


def test_fixed_anchors_keep_their_values(base_url: str) -> None:
    anchors = [
        {"item_id": "Item_1", "params": {"a": 1.0, "b": -2.0, "c": 0.0}},
        {"item_id": "Item_5", "params": {"a": 1.2, "b": -1.0}, "fixed": True},
        {"item_id": "not-in-data", "params": {"a": 1.0, "b": 0.0}},
    ]
    answer = httpx.post(
        base_url + "/irt/calibrate", json={"responses": ROWS, "item_ids": ITEMS, "anchors": anchors}
    )
    body = answer.json()
    got = {row["item_id"]: row for row in body["item_params"]}
    assert got["Item_1"]["params"] == {"a": 1.0, "b": -2.0, "c": 0.0}
    assert got["Item_1"]["fixed"] is True
    assert got["Item_5"]["params"]["b"] == -1.0
    assert got["Item_2"]["fixed"] is False
    assert body["fit_meta"]["model_spec"]["n_fixed"] == 2
    fixed = ItemParameters.from_arrays(["Item_1", "Item_5"], [1.0, 1.2], [-2.0, -1.0])
    expected = calibrate(expand(LSAT7), "2PL", fixed_items=fixed)
    assert got["Item_3"]["params"]["b"] == pytest.approx(expected.items.b[2])


def test_reference_anchors_link_the_scale_by_mean_sigma(base_url: str) -> None:
    reference = {"Item_1": -1.0, "Item_2": 0.5, "Item_3": 1.5}
    anchors = [{"item_id": i, "params": {"a": 1, "b": b}, "fixed": False} for i, b in reference.items()]
    body = httpx.post(
        base_url + "/irt/calibrate", json={"responses": ROWS, "item_ids": ITEMS, "anchors": anchors}
    ).json()
    linking = body["fit_meta"]["linking_constants"]
    assert linking["applied"] is True
    assert linking["n_anchors_used"] == 3
    linked = np.array([items_of(body)[i]["b"] for i in reference])
    target = np.array(list(reference.values()))
    assert linked.mean() == pytest.approx(target.mean())
    assert linked.std() == pytest.approx(target.std())


def test_rasch_is_the_1pl_and_3pl_is_accepted(base_url: str) -> None:
    for model, expected in (("rasch", "1PL"), ("3pl", "3PL")):
        body = httpx.post(base_url + "/irt/calibrate", json={"responses": ROWS, "model": model}).json()
        assert body["fit_meta"]["model_spec"]["model"] == expected


def test_nothing_to_calibrate_is_a_400(base_url: str) -> None:
    answer = httpx.post(base_url + "/irt/calibrate", json={"responses": [[1, 1], [1, 1]]})
    assert answer.status_code == 400
    assert "nothing to calibrate" in answer.json()["error"]


def test_score_gives_eap_and_the_prior_for_empty_rows(base_url: str) -> None:
    params = [{"a": 1.2, "b": -0.5, "c": 0.1}, {"a": 0.8, "b": 0.3}, {"b": 1.0}]
    rows = [[1, 0, None], [None, None, None], [1, 1, 1]]
    body = httpx.post(
        base_url + "/irt/score", json={"item_params": params, "responses": rows, "user_ids": ["a", "b", "c"]}
    ).json()
    items = ItemParameters.from_arrays([0, 1, 2], [1.2, 0.8, 1.0], [-0.5, 0.3, 1.0], [0.1, 0.0, 0.0])
    matrix = np.array([[1, 0, np.nan], [1, 1, 1]], dtype=float)
    expected = score(Responses.from_matrix(matrix, [0, 2], [0, 1, 2]), items, "EAP")
    abilities = body["abilities"]
    assert [a["user_id"] for a in abilities] == ["a", "b", "c"]
    assert abilities[0]["theta"] == pytest.approx(expected.theta[0])
    assert abilities[2]["se"] == pytest.approx(expected.se[1])
    assert (abilities[1]["theta"], abilities[1]["se"]) == (0.0, 1.0)


def test_score_rows_must_match_the_items(base_url: str) -> None:
    answer = httpx.post(base_url + "/irt/score", json={"item_params": [{"b": 0}], "responses": [[1, 0]]})
    assert answer.status_code == 422
    assert "responses" in answer.json()["error"]


def test_the_service_needs_no_database_for_irt(base_url: str) -> None:
    assert httpx.get(base_url + "/healthz").json()["database"] == "unreachable"


def test_item_priors_are_honoured(base_url: str) -> None:
    plain = httpx.post(base_url + "/irt/calibrate", json={"responses": ROWS, "item_ids": ITEMS}).json()
    tight = {"a": {"mean_log": 0.0, "sd_log": 0.05}}
    shrunk = httpx.post(
        base_url + "/irt/calibrate", json={"responses": ROWS, "item_ids": ITEMS, "priors": tight}
    ).json()
    a_plain = np.array([p["a"] for p in items_of(plain).values()])
    a_shrunk = np.array([p["a"] for p in items_of(shrunk).values()])
    assert np.abs(np.log(a_shrunk)).max() < np.abs(np.log(a_plain)).max()
    assert np.abs(np.log(a_shrunk)).max() < 0.15
