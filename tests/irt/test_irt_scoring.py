"""Scoring users with known items: EAP, MAP, ML, per-topic subsets, one user online."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dreamseed.irt import (
    ItemParameters,
    OnlineScorer,
    Responses,
    score,
    simulate_items,
    simulate_responses,
)

ITEMS = ItemParameters.from_arrays(["q1", "q2", "q3", "q4"], a=[1.0, 1.5, 0.8, 2.0], b=[-1.0, 0.0, 0.5, 1.0])


def one_user(correct: list[int], items: ItemParameters = ITEMS) -> Responses:
    return Responses.from_long(["u"] * len(correct), items.item_id[: len(correct)], correct)


@pytest.mark.parametrize("method", ["EAP", "MAP", "ML"])
@pytest.mark.parametrize("pattern", [[1, 1, 1, 1], [0, 0, 0, 0], [1], [0]])
def test_extreme_patterns_and_single_answers_score_finite(method: str, pattern: list[int]) -> None:
    result = score(one_user(pattern), ITEMS, method)  # type: ignore[arg-type]
    assert np.isfinite(result.theta).all()
    assert np.isfinite(result.se).all()
    assert (result.se > 0).all()
    assert -4.0 <= result.theta[0] <= 4.0


def test_ml_puts_perfect_patterns_at_the_end_of_the_scoring_range() -> None:
    assert score(one_user([1, 1, 1, 1]), ITEMS, "ML").theta[0] == pytest.approx(4.0)
    assert score(one_user([0, 0, 0, 0]), ITEMS, "ML").theta[0] == pytest.approx(-4.0)


def test_map_and_ml_solve_their_estimating_equations() -> None:
    pattern = [1, 0, 1, 0]
    ml = score(one_user(pattern), ITEMS, "ML").theta[0]
    p = 1 / (1 + np.exp(-ITEMS.a * (ml - ITEMS.b)))
    assert np.sum(ITEMS.a * (np.array(pattern) - p)) == pytest.approx(0.0, abs=1e-6)
    mp = score(one_user(pattern), ITEMS, "MAP").theta[0]
    p = 1 / (1 + np.exp(-ITEMS.a * (mp - ITEMS.b)))
    assert np.sum(ITEMS.a * (np.array(pattern) - p)) - mp == pytest.approx(0.0, abs=1e-6)
    eap = score(one_user(pattern), ITEMS, "EAP").theta[0]
    assert abs(eap) < abs(ml)


def test_users_without_answers_on_the_items_get_the_prior() -> None:
    data = Responses.from_long(["u", "v"], ["q1", "other"], [1, 0])
    for method in ("EAP", "MAP", "ML"):
        result = score(data, ITEMS, method, prior_mean=0.5, prior_sd=2.0)
        assert result.n_responses.tolist() == [1, 0]
        assert result.theta[1] == pytest.approx(0.5, abs=1e-3)
        assert result.se[1] == pytest.approx(2.0, abs=2e-3)


def test_unknown_method_is_rejected() -> None:
    with pytest.raises(ValueError, match="method must be one of"):
        score(one_user([1]), ITEMS, "WLE")  # type: ignore[arg-type]


def test_scoring_a_topic_uses_only_its_items() -> None:
    data = Responses.from_long(["u"] * 4, ["q1", "q2", "q3", "q4"], [1, 1, 0, 0])
    topic = score(data, ITEMS.subset(["q1", "q2"]))
    alone = score(Responses.from_long(["u", "u"], ["q1", "q2"], [1, 1]), ITEMS)
    assert topic.theta[0] == pytest.approx(alone.theta[0])
    assert topic.n_responses[0] == 2


def test_a_user_with_no_answers_in_a_topic_gets_the_prior_there() -> None:
    data = Responses.from_long(["u"] * 4 + ["v"], ["q1", "q2", "q3", "q4", "q3"], [1, 1, 0, 0, 1])
    algebra, geometry = score(data, ITEMS.subset(["q1", "q2"])), score(data, ITEMS.subset(["q3", "q4"]))
    assert algebra.n_responses.tolist() == [2, 0]
    assert (algebra.theta[1], algebra.se[1]) == pytest.approx((0.0, 1.0), abs=1e-3)  # the prior, on the grid
    assert geometry.n_responses.tolist() == [2, 1]
    assert geometry.theta[0] < algebra.theta[0]


def test_online_scorer_agrees_with_batch_scoring() -> None:
    sim = simulate_responses(50, 100, 0.5, "3PL", seed=3)
    batch = {m: score(sim.responses, sim.items, m) for m in ("EAP", "MAP", "ML")}
    pairs = sim.responses.pairs
    for method, result in batch.items():
        scorer = OnlineScorer(sim.items, method)  # type: ignore[arg-type]
        for user in range(0, 50, 7):
            mine = pairs.user == user
            est = scorer.score(sim.responses.item_ids[pairs.item[mine]], pairs.n_correct[mine])
            assert est.theta == pytest.approx(result.theta[user], abs=1e-6)
            assert est.se == pytest.approx(result.se[user], abs=1e-6)


def test_online_scorer_skips_unknown_items_and_validates() -> None:
    scorer = OnlineScorer(ITEMS)
    est = scorer.score(["q1", "nope"], [1, 0])
    assert est.n_responses == 1
    assert est.n_unknown_items == 1
    assert scorer.score([], []).theta == 0.0
    with pytest.raises(ValueError, match="0 or 1"):
        scorer.score(["q1"], [3])


def test_one_user_with_a_thousand_answers_scores_in_well_under_a_millisecond() -> None:
    items = simulate_items(5000, "3PL", seed=1)
    scorer = OnlineScorer(items)
    rng = np.random.default_rng(0)
    ids = items.item_id[rng.choice(5000, 1000, replace=False)]
    correct = rng.integers(0, 2, 1000)
    timings = []
    for _ in range(50):
        start = time.perf_counter()
        scorer.score(ids, correct)
        timings.append(time.perf_counter() - start)
    per_call = min(timings)  # as timeit: the minimum is what the code costs, the rest is a busy machine
    assert per_call < 1e-3, f"{per_call * 1e3:.2f} ms per call"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 1), min_size=1, max_size=12), st.sampled_from(["EAP", "MAP", "ML"]))
def test_any_pattern_scores_finite(pattern: list[int], method: str) -> None:
    items = simulate_items(12, "3PL", seed=2)
    result = score(one_user(pattern, items), items, method)  # type: ignore[arg-type]
    assert np.isfinite(result.theta).all()
    assert np.isfinite(result.se).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 1), min_size=2, max_size=10))
def test_rasch_scores_increase_with_the_number_correct(pattern: list[int]) -> None:
    items = ItemParameters.from_arrays([f"q{k}" for k in range(10)], a=np.ones(10), b=np.linspace(-2, 2, 10))
    n = len(pattern)
    users = [f"k{k}" for k in range(n + 1) for _ in range(n)]
    answers = [1 if j < k else 0 for k in range(n + 1) for j in range(n)]
    data = Responses.from_long(users, np.tile(items.item_id[:n], n + 1), answers)
    for method in ("EAP", "MAP", "ML"):
        theta = score(data, items, method).theta
        assert np.all(np.diff(theta) > 0)
    # Rasch: any pattern with the same number correct gets the same EAP
    same_total = Responses.from_long(["p"] * n, items.item_id[:n], pattern)
    by_total = score(data, items).theta[sum(pattern)]
    assert score(same_total, items).theta[0] == pytest.approx(by_total, abs=1e-9)
