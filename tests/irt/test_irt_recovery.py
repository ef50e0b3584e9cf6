"""Seeded parameter recovery: the truth is known, the estimates must come back close to it.

The full-size cases (20,000 users × 200 items at 25% observed, the sizes of the issue) are marked
slow; the small cases run in seconds with thresholds scaled to their smaller samples.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from dreamseed.irt import Calibration, IterationInfo, calibrate, simulate_responses


def rmse(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.mean((x - y) ** 2)))


def coverage(cal: Calibration, theta: np.ndarray) -> float:
    lower = cal.abilities.theta - 1.96 * cal.abilities.se
    upper = cal.abilities.theta + 1.96 * cal.abilities.se
    return float(np.mean((theta >= lower) & (theta <= upper)))


def check_2pl(n_users: int, n_items: int, observed: float, limit_ab: float, min_corr: float) -> None:
    sim = simulate_responses(n_users, n_items, observed, "2PL", seed=11)
    cal = calibrate(sim.responses, "2PL")
    assert cal.converged
    assert rmse(cal.items.a, sim.items.a) <= limit_ab
    assert rmse(cal.items.b, sim.items.b) <= limit_ab
    assert np.corrcoef(cal.abilities.theta, sim.theta)[0, 1] >= min_corr
    assert 0.90 <= coverage(cal, sim.theta) <= 0.98


def check_3pl(n_users: int, n_items: int, observed: float, limit_b: float) -> None:
    sim = simulate_responses(n_users, n_items, observed, "3PL", seed=12)
    cal = calibrate(sim.responses, "3PL")
    assert cal.converged
    assert rmse(cal.items.b, sim.items.b) <= limit_b
    assert 0.90 <= coverage(cal, sim.theta) <= 0.98


def test_2pl_recovery_small() -> None:
    check_2pl(4000, 40, 0.5, limit_ab=0.12, min_corr=0.88)


def test_3pl_recovery_with_c_prior_small() -> None:
    check_3pl(6000, 40, 0.5, limit_b=0.2)


def test_1pl_recovery_small() -> None:
    sim = simulate_responses(3000, 30, 0.5, "1PL", seed=13)
    cal = calibrate(sim.responses, "1PL")
    assert np.ptp(cal.items.a) == 0.0
    assert cal.items.a[0] == pytest.approx(1.0, abs=0.05)
    assert rmse(cal.items.b, sim.items.b) <= 0.08


@pytest.mark.slow
def test_2pl_recovery_full_size() -> None:
    check_2pl(20_000, 200, 0.25, limit_ab=0.08, min_corr=0.90)


@pytest.mark.slow
def test_3pl_recovery_with_c_prior_full_size() -> None:
    check_3pl(20_000, 200, 0.25, limit_b=0.15)


def test_progress_is_reported_every_iteration_and_summary_is_json() -> None:
    sim = simulate_responses(500, 20, 0.6, "2PL", seed=14)
    seen: list[IterationInfo] = []
    cal = calibrate(sim.responses, "2PL", progress=seen.append)
    assert [info.iteration for info in seen] == list(range(1, cal.iterations + 1))
    assert all(np.isfinite(info.objective) for info in seen)
    summary = json.loads(json.dumps(cal.summary()))
    assert summary["iterations"] == cal.iterations
    assert summary["settings"]["acceleration"] == "SQUAREM"


def test_acceleration_reaches_the_same_maximum_in_fewer_iterations() -> None:
    sim = simulate_responses(2000, 30, 0.5, "2PL", seed=15)
    fast = calibrate(sim.responses, "2PL", tol=1e-6)
    slow = calibrate(sim.responses, "2PL", tol=1e-6, accelerate=False, max_iter=2000)
    assert fast.loglik == pytest.approx(slow.loglik, abs=1e-3)
    assert fast.iterations < slow.iterations
    np.testing.assert_allclose(fast.items.b, slow.items.b, atol=1e-3)


def test_standard_errors_are_about_right() -> None:
    """Across items, (estimate − truth) / se should look standard normal."""
    sim = simulate_responses(5000, 40, 0.5, "2PL", seed=16)
    cal = calibrate(sim.responses, "2PL")
    z = (cal.items.b - sim.items.b) / cal.items.se_b
    assert 0.6 < np.std(z) < 1.6
    assert np.all(cal.items.se_a > 0)
