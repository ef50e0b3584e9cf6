"""P's trend from the users' own answers (growth fit) and its fall-back to the θ history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from dreamseed.kpis import (
    SlopePrior,
    compute_kpis,
    estimate_growth_prior,
    growth_trend,
    prepare_attempts,
    projection_trend,
    theta_trend,
    timed_answers,
)


def _bank(ids: list[str], b: float = 0.0, a: float | None = 1.0, c: float | None = 0.0) -> pd.DataFrame:
    return pd.DataFrame({"item_id": ids, "a": [a] * len(ids), "b": [b] * len(ids), "c": [c] * len(ids)})


def test_timed_answers_keep_answers_on_bank_items_timed_from_the_latest(make_attempts, as_of):
    attempts = make_attempts(
        [
            {"item_id": 7, "days_ago": 0, "hour": 12, "correct": True},
            {"item_id": 8, "days_ago": 2, "hour": 6, "correct": False},
            {"item_id": 9, "days_ago": 1},  # not in the bank
            {"item_id": 7, "days_ago": 3, "correct": None},  # outcome unknown
        ]
    )
    bank = pd.DataFrame(
        {"item_id": ["7", "8", "x"], "a": [1.5, None, 1.0], "b": [0.5, -1.0, 0.0], "c": [0.2, None, 0]}
    )
    answers = timed_answers(prepare_attempts(attempts, ["u1"], as_of), bank)
    assert answers.days.tolist() == pytest.approx([0.0, -2.25])  # days before u1's latest answer
    assert answers.correct.tolist() == [True, False]
    assert answers.a.tolist() == [1.5, 1.0]  # a null a is 1, a null c is 0
    assert answers.b.tolist() == [0.5, -1.0]
    assert answers.c.tolist() == [0.2, 0.0]


def test_items_with_impossible_parameters_are_left_out(make_attempts, as_of):
    attempts = make_attempts([{"item_id": i} for i in range(5)])
    bank = pd.DataFrame(
        {
            "item_id": ["0", "1", "2", "3", "4"],
            "a": [0.0, -1.0, 1.0, 1.0, 1.2],
            "b": [0, 0, None, 0, 0.3],
            "c": [0, 0, 0, 1.0, 0.1],
        }
    )
    answers = timed_answers(prepare_attempts(attempts, ["u1"], as_of), bank)
    assert answers.b.tolist() == [0.3]  # only item 4: a > 0, a finite b, 0 ≤ c < 1


def test_text_item_ids_match_too(make_attempts, as_of):
    attempts = make_attempts([{"item_id": 7}, {"item_id": 8}])
    attempts["item_id"] = attempts["item_id"].astype(str)
    answers = timed_answers(prepare_attempts(attempts, ["u1"], as_of), _bank(["8"]))
    assert answers.b.tolist() == [0.0]
    assert answers.person.tolist() == [0]


def _learners(n: int, slope: float, rng: np.random.Generator) -> pd.DataFrame:
    """n users answering 6 items a day for 50 days, θ rising by ``slope`` a day to 0 today."""
    rows = []
    for k in range(n):
        for days_ago in range(50):
            theta = -slope * days_ago
            for item in range(6):
                b = (item - 2.5) / 2
                rows.append(
                    {
                        "user_id": f"u{k}",
                        "item_id": item,
                        "days_ago": days_ago,
                        "correct": bool(rng.random() < expit(theta - b)),
                        "session_id": f"s{k}-{days_ago}",
                    }
                )
    return pd.DataFrame(rows)


def test_learners_growth_is_estimated_from_their_answers(make_attempts, as_of):
    rng = np.random.default_rng(11)
    attempts = make_attempts(_learners(60, 0.02, rng).to_dict("records"))
    users = [f"u{k}" for k in range(60)]
    answers = timed_answers(prepare_attempts(attempts, users, as_of), _bank([str(i) for i in range(6)]))
    prior = estimate_growth_prior(answers)
    assert prior.estimated
    assert prior.n_users == 60
    assert prior.mean == pytest.approx(0.02, abs=0.003)
    goals = pd.DataFrame(
        {"user_id": users, "target_level": 0.5, "target_date": as_of + pd.Timedelta(days=30)}
    )
    kpis = compute_kpis(
        users=users, attempts=attempts, as_of=as_of, goals=goals, item_bank=_bank([str(i) for i in range(6)])
    )
    # θ today ≈ 0, +0.02 a day → 0.6 > 0.5 in 30 days: more likely than not, never certain.
    assert (kpis["P_method"] == "trend").all()
    assert 0.5 < kpis["P_trend"].median() < 0.9


def test_without_answers_on_bank_items_p_comes_from_the_theta_history(make_attempts, make_theta, as_of):
    attempts = make_attempts([{"user_id": "u1", "item_id": 3}, {"user_id": "u2", "item_id": 1}])
    history = make_theta([("u1", 14, 0.0, 0.3), ("u1", 7, 0.1, 0.3)])
    prior = SlopePrior(mean=0.01, sd=0.01, n_users=100)
    users = pd.Index(["u1", "u2", "u3"], name="user_id")
    answers = timed_answers(prepare_attempts(attempts, users, as_of), _bank(["1"]))
    growth = growth_trend(answers, users, prior)
    assert growth["n_answers"].tolist() == [0, 1, 0]
    trend = projection_trend(growth, theta_trend(history, users, as_of), prior)
    assert trend["source"].tolist() == ["history", "answers", None]
    assert trend.loc["u1", "level_slope_cov"] == 0.0
    assert trend.loc["u2", "mean"] == growth.loc["u2", "mean"]
    assert trend.loc["u3"].drop("source").isna().all()


def test_users_with_less_than_a_week_of_answers_do_not_inform_the_prior(make_attempts, as_of):
    rng = np.random.default_rng(12)
    learners = _learners(60, 0.02, rng)
    attempts = make_attempts(learners[learners["days_ago"] < 6].to_dict("records"))
    users = [f"u{k}" for k in range(60)]
    answers = timed_answers(prepare_attempts(attempts, users, as_of), _bank([str(i) for i in range(6)]))
    prior = estimate_growth_prior(answers)
    assert not prior.estimated
    assert prior.n_users == 0
