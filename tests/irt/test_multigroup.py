"""Joint multiple-group calibration: recovery of the focal group's mean and SD with invariant
items, the constraint structure, and the likelihood against the single-group engine."""

from __future__ import annotations

import numpy as np
import pytest

from dreamseed.irt import Responses, calibrate, mirt_grid
from dreamseed.irt.multigroup import anchored, calibrate_groups


def _two_groups(seed: int, model: str = "2PL", n: int = 3000, j: int = 20) -> tuple[Responses, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.8, 2.0, j) if model != "Rasch" else np.ones(j)
    d = rng.normal(0, 1, j)
    c = np.full(j, 0.15) if model == "3PL" else np.zeros(j)
    group = np.repeat(["ref", "foc"], n)
    theta = np.concatenate([rng.normal(0, 1, n), rng.normal(0.5, 1.3, n)])
    p = c + (1 - c) / (1 + np.exp(-(a * theta[:, None] + d)))
    answers = (rng.random(p.shape) < p).astype(float)
    return Responses.from_matrix(answers, item_ids=[f"i{k}" for k in range(j)]), group


@pytest.mark.parametrize("model", ["2PL", "1PL", "Rasch"])
def test_focal_mean_and_sd_are_recovered_with_invariant_items(model: str) -> None:
    responses, group = _two_groups(1, "Rasch" if model == "Rasch" else "2PL")
    fit = calibrate_groups(responses, group, model, reference="ref")  # type: ignore[arg-type]
    assert fit.converged
    assert fit.groups.tolist() == ["ref", "foc"]
    if model == "Rasch":  # reference SD free (slopes 1): the focal/ref SD ratio is what is identified
        assert fit.sds[1] / fit.sds[0] == pytest.approx(1.3, abs=0.08)
        assert fit.means[1] / fit.sds[0] == pytest.approx(0.5, abs=0.08)
    else:
        assert (fit.means[0], fit.sds[0]) == (0.0, 1.0)
        assert fit.means[1] == pytest.approx(0.5, abs=0.08)
        assert fit.sds[1] == pytest.approx(1.3, abs=0.1)
    assert np.array_equal(fit.a[0], fit.a[1])
    assert np.array_equal(fit.d[0], fit.d[1])


def test_3pl_multigroup_converges_and_recovers_the_focal_mean() -> None:
    responses, group = _two_groups(2, "3PL", n=4000)
    fit = calibrate_groups(responses, group, "3PL", reference="ref")
    assert fit.converged
    assert fit.means[1] == pytest.approx(0.5, abs=0.12)
    assert fit.n_parameters == 20 * 3 + 2


def test_free_groups_at_n01_equal_two_separate_calibrations() -> None:
    # every item group-specific and both groups N(0, 1): the joint likelihood factorises
    responses, group = _two_groups(3, n=800, j=8)
    ids = responses.item_ids.tolist()
    joint = calibrate_groups(responses, group, "2PL", group_specific=anchored(ids, []))
    separate = 0.0
    for label in ("foc", "ref"):
        rows = np.flatnonzero(group == label)
        part = Responses(responses.user_ids[rows], responses.item_ids, responses.counts[rows])
        separate += calibrate(part, "2PL", quadrature=mirt_grid(), standard_errors=False, tol=1e-6).loglik
    assert joint.loglik == pytest.approx(separate, abs=1e-3)
    assert joint.n_parameters == 2 * 2 * 8


def test_constraint_mistakes_are_refused() -> None:
    responses, group = _two_groups(4, n=200, j=5)
    ids = responses.item_ids.tolist()
    with pytest.raises(ValueError, match="not identified"):
        calibrate_groups(responses, group, group_specific=anchored(ids, []), free_means=True)
    with pytest.raises(ValueError, match="no group-specific"):
        calibrate_groups(responses, group, "1PL", group_specific={"i0": ("a",)})
    with pytest.raises(ValueError, match="not in the responses"):
        calibrate_groups(responses, group, group_specific={"nope": ("d",)})
    with pytest.raises(ValueError, match="at least two groups"):
        calibrate_groups(responses, np.full(group.size, "x"))
    with pytest.raises(ValueError, match="one label per user"):
        calibrate_groups(responses, group[:-1])
