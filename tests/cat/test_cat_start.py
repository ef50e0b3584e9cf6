"""A session's start (Policy.prior_mean): θ before the first answer and the mean of the prior."""

from __future__ import annotations

import numpy as np
import pytest

from dreamseed.cat import InvalidPolicyError, ItemBank, Policy, estimate, item_information, next_item
from dreamseed.cat.simulate import item_probability_one
from dreamseed.irt import OnlineScorer


def test_the_first_item_is_chosen_at_the_start_theta(bank: ItemBank) -> None:
    step = next_item(bank, [], Policy("test", prior_mean=1.2))
    assert (step.theta, step.se) == (1.2, 1.0)
    assert step.item == int(np.argmax(item_information(bank, 1.2)))


@pytest.mark.parametrize("estimator", ["EAP", "MAP"])
def test_the_start_is_the_mean_of_the_prior(bank: ItemBank, estimator: str) -> None:
    items, correct = np.array([3, 8, 13]), np.array([True, False, True])
    shifted = estimate(bank, items, correct, Policy(estimator=estimator, prior_mean=1.0))  # type: ignore[arg-type]
    reference = OnlineScorer(bank.items, estimator, prior_mean=1.0).score(bank.items.item_id[items], correct)  # type: ignore[arg-type]
    assert shifted == (pytest.approx(reference.theta), pytest.approx(reference.se))
    plain = estimate(bank, items, correct, Policy(estimator=estimator))  # type: ignore[arg-type]
    assert shifted[0] > plain[0]


def test_a_start_outside_the_scale_is_refused() -> None:
    with pytest.raises(InvalidPolicyError, match="prior_mean"):
        Policy(prior_mean=7.0)
    with pytest.raises(InvalidPolicyError, match="prior_mean"):
        Policy(prior_mean=float("nan"))


def test_a_start_near_the_truth_lowers_the_error_of_a_short_session(bank: ItemBank) -> None:
    rng = np.random.default_rng(3)
    truth = rng.normal(0.0, 1.0, 150)
    stored = truth + rng.normal(0.0, 0.4, truth.size)  # last week's θ, SE ≈ 0.4
    errors: dict[str, list[float]] = {"prior": [], "stored": []}
    for kind in errors:
        answer_rng = np.random.default_rng(4)
        for theta, start in zip(truth, stored, strict=True):
            policy = Policy(
                "test", max_items=5, se_stop=None, prior_mean=float(start) if kind == "stored" else 0.0
            )
            answers: list[tuple[int, bool]] = []
            while not (step := next_item(bank, answers, policy)).stop:
                assert step.item is not None
                answers.append(
                    (step.item, bool(answer_rng.random() < item_probability_one(bank, step.item, theta)))
                )
            errors[kind].append(step.theta - theta)
    rmse = {kind: float(np.sqrt(np.mean(np.square(e)))) for kind, e in errors.items()}
    assert rmse == {"prior": pytest.approx(0.5733, abs=1e-3), "stored": pytest.approx(0.4063, abs=1e-3)}
    assert rmse["stored"] < 0.75 * rmse["prior"]
