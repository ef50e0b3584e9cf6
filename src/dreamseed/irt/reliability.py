"""Reliability of the ability scale: marginal (from the test information) and empirical (from the scores).

- **Marginal reliability** ρ = E_θ[σ² I(θ) / (σ² I(θ) + 1)] over the population θ ~ N(μ, σ²),
  with I(θ) = Σ_j I_j(θ) the test information of the items: the expected share of true-score
  variance in a score whose error variance is 1/I(θ). R mirt's ``marginal_rxx`` integrates
  I/(I + σ²) against the standard normal density; the two agree at σ = 1 (every model without
  anchors) and differ otherwise (mirt's form is not a variance ratio when σ ≠ 1). It describes
  the whole item bank (every user answering every item); **under missing responses** it does not
  describe any one user's test: ``marginal_reliability(..., answered=k)`` gives the value for a
  user answering k items of average information instead (I scaled by k/J).
- **Empirical reliability** var(θ̂)/(var(θ̂) + mean(SE²)) over the users with answers (mirt's
  ``empirical_rxx``, ``fit.empirical_reliability``): defined under missing responses, each
  user's SE reflects the answers they gave.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dreamseed.irt.parameters import ItemParameters, probability_correct

FloatArray = npt.NDArray[np.float64]

#: Integration grid of the marginal reliability (in population SDs): fine enough for 1e-7.
_POINTS = np.linspace(-8.0, 8.0, 321)


def information_curve(items: ItemParameters, theta: FloatArray) -> FloatArray:
    """I(θ) = Σ_j a_j² (P − c)² (1 − P) / ((1 − c)² P) at each θ, shape of ``theta``."""
    t = np.asarray(theta, dtype=np.float64).reshape(-1)
    a, b, c = items.a[:, None], items.b[:, None], items.c[:, None]
    p = np.clip(probability_correct(t[None, :], a, b, c), 1e-12, 1 - 1e-12)
    info = a**2 * (p - c) ** 2 * (1.0 - p) / ((1.0 - c) ** 2 * p)
    return np.asarray(info.sum(axis=0).reshape(np.shape(theta)), dtype=np.float64)


def marginal_reliability(
    items: ItemParameters, mean: float = 0.0, sd: float = 1.0, *, answered: float | None = None
) -> float:
    """ρ over θ ~ N(``mean``, ``sd``²); with ``answered`` = k, for a user answering k of the J items."""
    if len(items) == 0:
        return 0.0
    theta = mean + sd * _POINTS
    weights = np.exp(-0.5 * _POINTS**2)
    weights /= weights.sum()
    info = information_curve(items, theta)
    if answered is not None:
        info = info * float(answered) / len(items)
    share = sd**2 * info / (sd**2 * info + 1.0)
    return float(share @ weights)
