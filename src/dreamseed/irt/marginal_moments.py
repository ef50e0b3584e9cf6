"""Model-implied and observed marginal moments of dichotomous items, for limited-information fit.

With the item curves P (J, Q) on a quadrature grid with normalised weights w (Q,), the model
probability that every item of a set S is answered correctly is π_S = Σ_q w_q Π_{j∈S} P_jq. M2,
SRMSR and the LD statistics only need the first- and second-order moments (|S| ≤ 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dreamseed.irt.item_model import PROBABILITY_FLOOR, logistic
from dreamseed.irt.responses import Responses

FloatArray = npt.NDArray[np.float64]


def item_curves(a: FloatArray, d: FloatArray, c: FloatArray, points: FloatArray) -> FloatArray:
    """P(correct | θ_q) of each item, shape (J, Q), clipped away from 0 and 1."""
    p = c[:, None] + (1.0 - c[:, None]) * logistic(a[:, None] * points[None, :] + d[:, None])
    return np.clip(p, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)


def pair_index(n_items: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Item pairs (j, k), j < k, each array of shape (J(J−1)/2,)."""
    first, second = np.triu_indices(n_items, k=1)
    return first.astype(np.intp), second.astype(np.intp)


def moment_sets(n_items: int) -> npt.NDArray[np.bool_]:
    """Indicator of the items in each moment, shape (s, J): J singletons, then the pairs j < k."""
    first, second = pair_index(n_items)
    sets = np.zeros((n_items + first.size, n_items), dtype=bool)
    sets[np.arange(n_items), np.arange(n_items)] = True
    rows = n_items + np.arange(first.size)
    sets[rows, first] = True
    sets[rows, second] = True
    return sets


def model_moments(curves: FloatArray, weights: FloatArray) -> FloatArray:
    """(π_j for each item, then π_jk for each pair j < k), shape (s,)."""
    first, second = pair_index(curves.shape[0])
    return np.concatenate([curves @ weights, (curves[first] * curves[second]) @ weights])


def moment_covariance(curves: FloatArray, weights: FloatArray) -> FloatArray:
    """Ξ (s, s): the covariance of the moment indicators of one respondent under the model.

    Ξ_ik = π_{S_i ∪ S_k} − π_i π_k; the product of two moments sharing an item is the moment of the
    union of their sets (x² = x for 0/1 answers), which needs up to fourth-order probabilities.
    """
    sets = moment_sets(curves.shape[0]).astype(np.float64)
    log_curves = np.log(curves)
    per_point = np.exp(sets @ log_curves)  # (s, Q)
    joint = (per_point * weights) @ per_point.T
    rows, cols = np.nonzero(sets @ sets.T > 0)
    union = np.maximum(sets[rows], sets[cols])
    joint[rows, cols] = np.exp(union @ log_curves) @ weights
    moments = per_point @ weights
    return np.asarray(joint - np.outer(moments, moments), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class CompleteAnswers:
    """A dense 0/1 answer matrix (N, J) of the users who answered every item exactly once.

    ``n_dropped`` counts the users left out (some item unanswered or answered more than once).
    """

    matrix: FloatArray
    n_dropped: int


def complete_answers(responses: Responses, item_ids: npt.NDArray[np.generic]) -> CompleteAnswers:
    """The complete cases of ``responses`` on ``item_ids`` (in that order)."""
    aligned = responses.aligned_to(item_ids)
    correct = aligned.correct_counts.toarray()
    answered = aligned.observed_counts.toarray()
    complete = np.all(answered == 1, axis=1)
    return CompleteAnswers(np.asarray(correct[complete], dtype=np.float64), int((~complete).sum()))


def observed_moments(matrix: FloatArray) -> FloatArray:
    """Sample proportions (p_j, then p_jk for j < k) of a complete 0/1 matrix (N, J); shape (s,)."""
    first, second = pair_index(matrix.shape[1])
    cross = matrix.T @ matrix / matrix.shape[0]
    return np.concatenate([matrix.mean(axis=0), cross[first, second]])
