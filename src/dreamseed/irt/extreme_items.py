"""Items answered all right or all wrong: no finite ML estimate, so a documented finite one.

They are left out of the EM and reported with a = 1 (the common slope in a 1PL), c = 0 and the b
at which the marginal probability of a right answer under the ability distribution is (n − ½)/n
(all right) or ½/n (all wrong) for their n answers; se_b comes from that binomial's information.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dreamseed.irt.item_model import ItemModel, logistic
from dreamseed.irt.mstep import ItemArrays
from dreamseed.irt.parameters import ItemParameters
from dreamseed.irt.quadrature import QuadratureGrid
from dreamseed.irt.responses import Responses

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def extreme_item_mask(responses: Responses, fixed: BoolArray) -> BoolArray:
    """Items (J,) not held fixed whose answers are all right or all wrong."""
    right, total = responses.correct_per_item()
    return ~fixed & ((right == 0) | (right == total))


def with_extreme_items(
    responses: Responses,
    estimated: ItemParameters,
    extreme: BoolArray,
    grid: QuadratureGrid,
    mean: float,
    sd: float,
    model: ItemModel,
    items: ItemArrays,
    free: BoolArray,
) -> ItemParameters:
    """All items in the order of ``responses.item_ids``, extreme ones filled in (module docstring)."""
    if not extreme.any():
        return estimated
    right, total = responses.correct_per_item()
    slope = float(items.a[free][0]) if model.common_slope and free.any() else 1.0
    target = np.where(right[extreme] > 0, (total[extreme] - 0.5) / total[extreme], 0.5 / total[extreme])
    weights = QuadratureGrid.on_points(grid.points, mean, sd).weights
    b, se_b = _difficulty_for_marginal(target, total[extreme], slope, grid.points, weights)
    a_all, b_all = np.empty(responses.n_items), np.empty(responses.n_items)
    c_all, se = np.zeros(responses.n_items), np.zeros((3, responses.n_items))
    a_all[extreme], b_all[extreme], se[1, extreme] = slope, b, se_b
    kept = ~extreme
    a_all[kept], b_all[kept], c_all[kept] = estimated.a, estimated.b, estimated.c
    se[0, kept], se[1, kept], se[2, kept] = estimated.se_a, estimated.se_b, estimated.se_c
    return ItemParameters.from_arrays(responses.item_ids, a_all, b_all, c_all, se[0], se[1], se[2])


def _difficulty_for_marginal(
    target: FloatArray, n: FloatArray, slope: float, points: FloatArray, weights: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """b with Σ_q w_q σ(slope(θ_q − b)) = target (bisection), and 1/√(binomial information of b)."""
    low, high = np.full(target.size, -30.0), np.full(target.size, 30.0)
    for _ in range(80):
        b = 0.5 * (low + high)
        marginal = logistic(slope * (points[None, :] - b[:, None])) @ weights
        low, high = np.where(marginal > target, b, low), np.where(marginal > target, high, b)
    s = logistic(slope * (points[None, :] - b[:, None]))
    marginal = s @ weights
    derivative = (slope * s * (1 - s)) @ weights
    information = n * derivative**2 / (marginal * (1 - marginal))
    return b, 1.0 / np.sqrt(np.maximum(information, 1e-12))
