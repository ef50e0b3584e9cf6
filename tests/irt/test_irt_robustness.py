"""Awkward data: extreme items, single answers, tiny or degenerate sets; never NaN or inf."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dreamseed.irt import (
    Calibration,
    Responses,
    calibrate,
    empirical_reliability,
    item_fit,
    simulate_responses,
)


def assert_all_finite(cal: Calibration) -> None:
    for name in ("a", "b", "c", "se_a", "se_b", "se_c"):
        assert np.isfinite(getattr(cal.items, name)).all(), name
    assert np.isfinite(cal.abilities.theta).all()
    assert np.isfinite(cal.abilities.se).all()
    for value in (cal.loglik, cal.aic, cal.bic, cal.population_mean, cal.population_sd):
        assert np.isfinite(value)


def with_extra_items() -> Responses:
    sim = simulate_responses(800, 10, 0.7, "2PL", seed=31)
    pairs = sim.responses.pairs
    users = np.concatenate([sim.responses.user_ids[pairs.user], [0, 1, 2, 3, 4, 5, 999]])
    items = np.concatenate([sim.responses.item_ids[pairs.item], ["easy"] * 3 + ["hard"] * 3 + ["i0"]])
    correct = np.concatenate([pairs.n_correct, [1, 1, 1, 0, 0, 0, 1]])
    return Responses.from_long(users, items, correct)


@pytest.mark.parametrize("model", ["1PL", "2PL", "3PL"])
def test_items_everyone_got_right_or_wrong_get_finite_documented_values(model: str) -> None:
    data = with_extra_items()
    cal = calibrate(data, model)  # type: ignore[arg-type]
    assert_all_finite(cal)
    assert set(cal.extreme_items) == {"easy", "hard"}
    easy, hard = cal.items.subset(["easy"]), cal.items.subset(["hard"])
    assert easy.b[0] < -1.0
    assert hard.b[0] > 1.0
    assert easy.c[0] == 0.0
    assert easy.se_b[0] > 0
    # user 999 answered a single item: a finite, uninformative-ish estimate
    lone = cal.abilities.user_id.tolist().index(999)
    assert cal.abilities.n_responses[lone] == 1
    assert cal.abilities.se[lone] > 0.7


def test_only_extreme_items_is_a_clear_error() -> None:
    data = Responses.from_long(["u", "v", "u"], ["q1", "q1", "q2"], [1, 1, 0])
    with pytest.raises(ValueError, match="nothing to calibrate"):
        calibrate(data, "2PL")


def test_unknown_model_is_rejected() -> None:
    data = Responses.from_long(["u", "v"], ["q", "q"], [1, 0])
    with pytest.raises(ValueError, match="model must be one of"):
        calibrate(data, "4PL")  # type: ignore[arg-type]


@settings(max_examples=15, deadline=None)
@given(
    st.integers(2, 12),
    st.integers(2, 6),
    st.floats(0.3, 1.0),
    st.integers(0, 2**16),
    st.sampled_from(["1PL", "2PL", "3PL"]),
)
def test_any_small_data_set_gives_finite_output(
    n_users: int, n_items: int, observed: float, seed: int, model: str
) -> None:
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < observed
    mask[:, 0] = True
    values = np.where(mask, rng.integers(0, 2, (n_users, n_items)), np.nan)
    values[0, 0], values[1, 0] = 0, 1  # at least one item with variance
    cal = calibrate(Responses.from_matrix(values), model, max_iter=200)  # type: ignore[arg-type]
    assert_all_finite(cal)


def test_fit_statistics_look_like_the_model_fits() -> None:
    sim = simulate_responses(3000, 30, 0.5, "2PL", seed=32)
    cal = calibrate(sim.responses, "2PL")
    fit = item_fit(sim.responses, cal.items, cal.abilities)
    assert fit.s_x2 is None  # summed scores are not comparable with missing data
    # plug-in EAP abilities fit each user's own answers, so mean squares sit a little below 1
    assert 0.85 < np.median(fit.infit) < 1.1
    assert 0.7 < np.median(fit.outfit) < 1.1
    assert fit.n_answers.sum() == sim.responses.n_obs
    reliability = empirical_reliability(cal.abilities)
    assert 0.7 < reliability < 0.95
    assert fit.summary()["s_x2_computed"] is False


def test_s_x2_on_complete_data_flags_nothing_much_when_the_model_is_true() -> None:
    sim = simulate_responses(3000, 15, 1.0, "2PL", seed=33)
    cal = calibrate(sim.responses, "2PL")
    fit = item_fit(sim.responses, cal.items, cal.abilities)
    assert fit.s_x2 is not None
    assert fit.s_x2_p is not None
    assert np.all(np.isfinite(fit.s_x2))
    assert np.mean(fit.s_x2_p < 0.01) <= 0.15
