"""Planted DIF is found: a few replications of bench/dif_recovery.py's design, made smaller (10
items, 2 × 1000 users, focal group N(−0.5, 1.2²); item 0 b + 0.8, item 1 b − 0.8, item 2 a × 0.4).
The 50-replication power and false-positive figures are in docs/PSYCHOMETRICS.md."""

from __future__ import annotations

import numpy as np
import pytest

from dreamseed.irt import Responses
from dreamseed.irt.dif_lr import lr_dif, purified_lr_dif
from dreamseed.irt.dif_mh import mantel_haenszel


def _replication(seed: int, n_items: int = 10, n: int = 1000) -> tuple[Responses, np.ndarray]:
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.8, 2.0, n_items), rng.normal(0, 1, n_items)
    a_focal, b_focal = a.copy(), b.copy()
    b_focal[0] += 0.8
    b_focal[1] -= 0.8
    a_focal[2] *= 0.4
    theta = np.concatenate([rng.normal(0, 1, n), rng.normal(-0.5, 1.2, n)])
    focal = np.arange(2 * n) >= n
    slopes, difficulties = np.where(focal[:, None], a_focal, a), np.where(focal[:, None], b_focal, b)
    answers = rng.random((2 * n, n_items)) < 1 / (1 + np.exp(-slopes * (theta[:, None] - difficulties)))
    return Responses.from_matrix(answers.astype(float)), np.where(focal, "foc", "ref")


@pytest.mark.parametrize("seed", [11, 12])
def test_likelihood_ratio_finds_the_planted_items_and_purification_drops_the_rest(seed: int) -> None:
    responses, groups = _replication(seed)
    # all others as anchors: 3 of 10 anchors carry DIF, which can pull a clean item over the line
    assert {0, 1, 2} <= set(lr_dif(responses, groups, "2PL", reference="ref").flagged_items())
    purified = purified_lr_dif(responses, groups, "2PL", reference="ref")
    assert purified.flagged_items() == [0, 1, 2]
    assert purified.anchors == tuple(range(3, 10))
    assert purified.baseline.means[1] == pytest.approx(-0.5, abs=0.15)


@pytest.mark.parametrize("seed", [11, 12])
def test_mantel_haenszel_finds_the_uniform_dif(seed: int) -> None:
    result = mantel_haenszel(*_replication(seed), reference="ref", focal="foc")
    assert {0, 1} <= set(result.flagged_items())
    assert result.d_dif[0] < -1.0 < 1.0 < result.d_dif[1]  # item 0 harder, item 1 easier for the focal group
    assert set(result.ets_class[[0, 1]].tolist()) <= {"B", "C"}
