"""Sympson–Hetter exposure-control parameters by iterated simulation.

The standard procedure (Sympson & Hetter, 1985): start with K_i = 1 for every item; simulate the
CAT on a θ sample with the current K; with P(S_i) the share of simulees for whom item i was a
candidate (drawn for its lottery), set K_i = r_max / P(S_i) where P(S_i) > r_max, else 1; repeat.
The administration rate P(A_i) = P(S_i)·K_i then settles near or below r_max.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from dreamseed.cat.bank import ItemBank
from dreamseed.cat.errors import InvalidPolicyError
from dreamseed.cat.policy import Policy
from dreamseed.cat.simulate import run_simulees

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ExposureParameters:
    """K per item (shape (J,), in [0, 1]); per iteration (shape (iterations,)) the largest
    administration rate observed while simulating with the K of that iteration's start."""

    k: FloatArray
    max_exposure: FloatArray
    r_max: float


def sympson_hetter_parameters(
    bank: ItemBank,
    theta_sample: FloatArray,
    policy: Policy,
    rng: np.random.Generator,
    r_max: float = 0.25,
    iterations: int = 8,
) -> ExposureParameters:
    """K for ``policy`` (its selection, content and stopping rules) on simulees ``theta_sample``
    (shape (N,), θ units); ``r_max`` is the target maximum exposure rate."""
    if not 0.0 < r_max <= 1.0 or iterations < 1:
        raise InvalidPolicyError("r_max must lie in (0, 1] and iterations must be at least 1")
    theta = np.asarray(theta_sample, dtype=np.float64).reshape(-1)
    if theta.size == 0:
        raise InvalidPolicyError("theta_sample is empty")
    k = np.ones(len(bank))
    history = []
    for _ in range(iterations):
        current = replace(policy, exposure="sympson-hetter", exposure_parameters=k.copy())
        trace = run_simulees(bank, theta, current, rng)
        history.append(float(trace.administered.max() / theta.size))
        selected = trace.examined / theta.size
        k = np.where(selected > r_max, r_max / np.maximum(selected, 1e-12), 1.0)
    return ExposureParameters(k, np.array(history), r_max)


def k_from_observed(examined: npt.ArrayLike, sessions: int, r_max: float = 0.25) -> FloatArray:
    """Sympson–Hetter K from live sessions: one step of the same procedure, with P(S_i) the share
    of ``sessions`` in which item i was examined (served, or drawn for a lottery that failed;
    shape (J,)): K_i = r_max / P(S_i) where P(S_i) > r_max, else 1. Items never examined get 1."""
    if not 0.0 < r_max <= 1.0:
        raise InvalidPolicyError("r_max must lie in (0, 1]")
    if sessions < 1:
        raise InvalidPolicyError("no sessions to compute exposure from")
    selected = np.asarray(examined, dtype=np.float64) / sessions
    return np.where(selected > r_max, r_max / np.maximum(selected, 1e-12), 1.0)
