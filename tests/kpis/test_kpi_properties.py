"""Property tests: every KPI stays in its range, and users never influence each other, for any input."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dreamseed.kpis import KpiParameters, churn_risk, compute_kpis, theta_trend

USERS = ["u1", "u2", "u3"]
AS_OF = date(2025, 3, 31)
PURE_FIXTURES = [HealthCheck.function_scoped_fixture]  # the fixtures used below return pure functions
RANGES = {
    "I_t": (-1.0, 1.0),
    "E_t": (0.0, 1.0),
    "R_t": (0.0, 1.0),
    "A_t": (0.0, 1.0),
    "P": (0.0, 1.0),
    "P_static": (0.0, 1.0),
    "P_trend": (0.0, 1.0),
    "S": (0.0, 1.0),
}
maybe_float = st.one_of(st.none(), st.floats(-1e6, 1e6), st.just(float("nan")))

attempt_rows = st.lists(
    st.fixed_dictionaries(
        {
            "user_id": st.sampled_from(USERS),
            "item_id": st.integers(0, 4),
            "topic_id": st.sampled_from(["a", "b", None]),
            "correct": st.booleans(),
            "response_time_ms": st.one_of(st.none(), st.integers(-10, 10**7)),
            "hint_used": st.one_of(st.none(), st.booleans()),
            "session_id": st.sampled_from(["s1", "s2", "s3", None]),
            "days_ago": st.integers(-5, 70),
            "hour": st.floats(0, 23.99),
        }
    ),
    max_size=40,
)
theta_rows = st.lists(
    st.tuples(
        st.sampled_from(USERS),
        st.integers(-3, 60),
        st.floats(-6, 6),
        st.one_of(st.floats(-1, 3), st.just(float("nan"))),
    ),
    max_size=12,
)
ability_rows = st.lists(st.tuples(st.sampled_from(USERS), maybe_float, maybe_float), max_size=4)
goal_rows = st.lists(
    st.tuples(st.sampled_from(USERS), maybe_float, st.one_of(st.none(), st.integers(-100, 400))), max_size=4
)
parameters = st.builds(
    KpiParameters,
    churn_horizon_days=st.integers(1, 60),
    default_target=st.floats(-3, 3),
    use_theta=st.booleans(),
    process_noise_per_day=st.floats(0, 1),
    p_method=st.sampled_from(["trend_or_static", "static", "trend"]),
    trend_lookback_days=st.one_of(st.none(), st.integers(1, 90)),
)


def _frames(make_attempts, make_theta, attempts, thetas, abilities, goals):
    return {
        "attempts": make_attempts(attempts),
        "theta_history": make_theta(thetas),
        "abilities": pd.DataFrame(abilities, columns=["user_id", "mean", "sd"]),
        "goals": pd.DataFrame(
            [(u, level, None if d is None else AS_OF + timedelta(days=d)) for u, level, d in goals],
            columns=["user_id", "target_level", "target_date"],
        ),
    }


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, *PURE_FIXTURES])
@given(attempt_rows, theta_rows, ability_rows, goal_rows, parameters)
def test_every_kpi_stays_in_its_range(make_attempts, make_theta, attempts, thetas, abilities, goals, params):
    frames = _frames(make_attempts, make_theta, attempts, thetas, abilities, goals)
    out = compute_kpis(users=USERS, as_of=AS_OF, parameters=params, **frames)
    for column, (low, high) in RANGES.items():
        values = out[column].to_numpy(dtype=float)
        known = values[~np.isnan(values)]
        assert ((known >= low) & (known <= high)).all(), (column, known)
    assert not np.isinf(out["I_t_z"].to_numpy(dtype=float)).any()
    assert (out["n_recent"] >= 0).all()
    assert out["I_t_mode"].isin(["theta", "accuracy", None]).all()


@settings(max_examples=40, deadline=None, suppress_health_check=PURE_FIXTURES)
@given(attempt_rows, theta_rows, ability_rows, goal_rows)
def test_each_user_alone_equals_the_batch(make_attempts, make_theta, attempts, thetas, abilities, goals):
    frames = _frames(make_attempts, make_theta, attempts, thetas, abilities, goals)
    together = compute_kpis(users=USERS, as_of=AS_OF, **frames)
    for user in USERS:
        alone = compute_kpis(
            users=[user], as_of=AS_OF, **{name: f[f["user_id"] == user] for name, f in frames.items()}
        )
        pd.testing.assert_frame_equal(together.loc[[user]], alone, check_exact=False, rtol=1e-9, atol=1e-12)


@settings(max_examples=100, deadline=None, suppress_health_check=PURE_FIXTURES)
@given(theta_rows, st.dates(date(2025, 1, 1), date(2025, 6, 1)))
def test_trend_standard_errors_are_positive_or_null(make_theta, thetas, as_of):
    trend = theta_trend(make_theta(thetas), USERS, as_of)
    for column in ("sd", "slope_se"):
        values = trend[column].to_numpy(dtype=float)
        assert (values[~np.isnan(values)] >= 0).all()
    assert (trend["n_points"] >= 0).all()


@given(
    st.lists(st.floats(-10, 400), min_size=1, max_size=20),
    st.floats(0, 100),
    st.integers(0, 50),
    st.integers(1, 60),
)
def test_churn_risk_is_in_range_and_rises_with_inactivity(days, gap, sessions, horizon):
    scores = churn_risk(np.array(days), gap, sessions, horizon)
    assert ((scores >= 0) & (scores <= 1)).all()
    order = np.argsort(days, kind="stable")
    assert (np.diff(scores[order]) >= -1e-12).all()
