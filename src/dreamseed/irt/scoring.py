"""Ability scoring with known item parameters: EAP (default), MAP and ML.

All users are scored at once: one sparse product ``counts @ table`` gives every user's
log-likelihood on the scoring grid (81 points on mean ± 4 SD of the N(mean, SD²) prior, as the
original service). Only the items in ``items`` are used, so scoring a topic means passing that
topic's items (``items.subset(ids)``).

- **EAP**: posterior mean and posterior SD on the grid.
- **MAP**: posterior mode, Newton steps from the best grid point; SE = 1/√(I(θ) + 1/SD²) with
  I the test (Fisher) information.
- **ML**: likelihood maximum within the grid's range [mean − 4 SD, mean + 4 SD], Newton steps
  from the best grid point; SE = 1/√I(θ). All-correct (all-wrong) patterns have no finite ML
  estimate and get the upper (lower) end of that range, with the SE from the information there.

Users with no answers on the given items get the prior: θ = mean, SE = SD (``n_responses`` = 0).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from dreamseed.irt.item_model import PROBABILITY_FLOOR, logistic, stacked_log_table
from dreamseed.irt.parameters import Abilities, ItemParameters
from dreamseed.irt.quadrature import QuadratureGrid, scoring_grid
from dreamseed.irt.responses import Responses, row_blocks

FloatArray = npt.NDArray[np.float64]
Method = Literal["EAP", "MAP", "ML"]
METHODS = ("EAP", "MAP", "ML")


def score(
    responses: Responses,
    items: ItemParameters,
    method: Method = "EAP",
    *,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    grid: QuadratureGrid | None = None,
    n_threads: int = 1,
) -> Abilities:
    """Score every user of ``responses`` with fixed ``items``; returns one estimate per user.

    ``n_threads`` threads share the chunks of users of the grid pass (same numbers whatever the
    count: each chunk is computed alone)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    grid = grid or scoring_grid(prior_mean, prior_sd)
    aligned = responses.aligned_to(items.item_id)
    table = stacked_log_table(items.a, items.d, items.c, grid.points)
    n_responses = aligned.responses_per_user()
    if method == "EAP":
        theta, se = _by_chunk(aligned, table, lambda loglik: _eap(loglik, grid), n_threads)
    else:
        pairs = aligned.pairs
        shift = grid.log_weights if method == "MAP" else 0.0
        start, _ = _by_chunk(
            aligned, table, lambda loglik: (grid.points[np.argmax(loglik + shift, axis=1)],) * 2, n_threads
        )
        precision = 1.0 / prior_sd**2 if method == "MAP" else 0.0
        bounds = (float(grid.points[0]), float(grid.points[-1]))
        pair_items = (items.a[pairs.item], items.d[pairs.item], items.c[pairs.item])
        theta, info = _fisher_scoring(
            pairs.user, pair_items, pairs.n_correct, pairs.n_total, start, prior_mean, precision, bounds
        )
        se = 1.0 / np.sqrt(np.maximum(info, 1e-12))
        empty = n_responses == 0
        theta, se = np.where(empty, prior_mean, theta), np.where(empty, prior_sd, se)
    return Abilities(aligned.user_ids, theta, se, n_responses, method)


#: Users × grid points of one chunk's log-likelihood matrix (float64: 8 MB).
_CHUNK_CELLS = 1 << 20


def _by_chunk(
    responses: Responses,
    table: FloatArray,
    estimate: Callable[[FloatArray], tuple[FloatArray, FloatArray]],
    n_threads: int = 1,
) -> tuple[FloatArray, FloatArray]:
    """``estimate`` of each chunk of users' log-likelihoods on the grid (chunk, Q), concatenated: no
    users × points matrix for all users at once and no float64 copy of the answers; the chunks are
    shared by ``n_threads`` threads (scipy's sparse product and numpy's ufuncs release the GIL)."""
    size = max(1, _CHUNK_CELLS // table.shape[1])
    first, second = np.empty(responses.n_users), np.empty(responses.n_users)
    blocks = row_blocks(responses.counts, size)
    starts = np.concatenate([[0], np.cumsum([block.shape[0] for block in blocks])])

    def run(index: int) -> None:
        lo, hi = starts[index], starts[index + 1]
        first[lo:hi], second[lo:hi] = estimate(np.asarray(blocks[index].astype(np.float64) @ table))

    if n_threads > 1 and len(blocks) > 1:
        with ThreadPoolExecutor(min(n_threads, len(blocks))) as pool:
            list(pool.map(run, range(len(blocks))))
    else:
        for index in range(len(blocks)):
            run(index)
    return first, second


def _eap(loglik: FloatArray, grid: QuadratureGrid) -> tuple[FloatArray, FloatArray]:
    work = loglik + grid.log_weights
    work -= work.max(axis=1, keepdims=True)
    np.exp(work, out=work)
    work /= work.sum(axis=1, keepdims=True)
    mean = work @ grid.points
    variance = work @ (grid.points**2) - mean**2
    return mean, np.sqrt(np.maximum(variance, 1e-12))


def _fisher_scoring(
    user: npt.NDArray[np.int64],
    pair_items: tuple[FloatArray, FloatArray, FloatArray],
    n_correct: FloatArray,
    n_total: FloatArray,
    start: FloatArray,
    prior_mean: float,
    precision: float,
    bounds: tuple[float, float],
    iterations: int = 30,
) -> tuple[FloatArray, FloatArray]:
    """Vectorised Newton iterations on every user's θ; returns (θ, Fisher information incl. prior).

    Steps use the observed curvature where it is clearly negative (quadratic convergence, also for
    the 3PL) and the Fisher information elsewhere; ``pair_items`` holds (a, d, c) of the item of
    each answered pair, aligned with ``user``."""
    theta = start.astype(np.float64).copy()
    a, d, c = pair_items
    n = theta.size
    for _ in range(iterations):
        gradient, info, curvature = _derivatives(user, a, d, c, n_correct, n_total, theta, n)
        gradient -= precision * (theta - prior_mean)
        info += precision
        curvature += precision
        scale = np.where(curvature > 0.5 * info, curvature, info)
        step = np.clip(gradient / np.maximum(scale, 1e-12), -1.0, 1.0)
        theta = np.clip(theta + step, *bounds)
        if np.max(np.abs(step), initial=0.0) < 1e-7:
            break
    _, info, _ = _derivatives(user, a, d, c, n_correct, n_total, theta, n)
    return theta, info + precision


def _derivatives(
    user: npt.NDArray[np.int64],
    a: FloatArray,
    d: FloatArray,
    c: FloatArray,
    n_correct: FloatArray,
    n_total: FloatArray,
    theta: FloatArray,
    n_users: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per user: d log L/dθ, the Fisher information and −d² log L/dθ² (observed), each (N,)."""
    s = logistic(a * theta[user] + d)
    p = np.clip(c + (1 - c) * s, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    slope = (1 - c) * a * s * (1 - s)
    bend = slope * a * (1 - 2 * s)
    variance = p * (1 - p)
    residual = n_correct - n_total * p
    fisher = n_total * slope * slope / variance
    observed = fisher - residual * (bend * variance - slope * slope * (1 - 2 * p)) / variance**2
    gradient = np.bincount(user, weights=residual * slope / variance, minlength=n_users)
    return (
        gradient.astype(np.float64),
        np.bincount(user, weights=fisher, minlength=n_users).astype(np.float64),
        np.bincount(user, weights=observed, minlength=n_users).astype(np.float64),
    )


@dataclass(frozen=True)
class AbilityEstimate:
    """One user's θ and its SE, the number of answers used and the number of unknown items skipped."""

    theta: float
    se: float
    n_responses: int
    n_unknown_items: int


def _integer_lookup(item_ids: npt.NDArray[Any]) -> tuple[int, npt.NDArray[np.intp]] | None:
    """(smallest id, row of id - smallest id or -1) when the bank's ids are integers spanning at
    most 2^22 values (a 32 MB table at most); None otherwise (the dict is used)."""
    if item_ids.size == 0 or item_ids.dtype.kind not in "iu":
        return None
    first, last = int(item_ids.min()), int(item_ids.max())
    if last - first >= 1 << 22:
        return None
    table = np.full(last - first + 1, -1, dtype=np.intp)
    table[item_ids.astype(np.int64) - first] = np.arange(item_ids.size, dtype=np.intp)
    return first, table


class OnlineScorer:
    """Scores one user at a time against a fixed item bank, in well under a millisecond.

    The bank's log P and log(1 − P) on the scoring grid are computed once; a call gathers the
    rows of the answered items and sums them. Answers to items not in the bank are skipped and
    counted in ``n_unknown_items``.
    """

    def __init__(
        self, items: ItemParameters, method: Method = "EAP", prior_mean: float = 0.0, prior_sd: float = 1.0
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
        self.items, self.method = items, method
        self.prior_mean, self.prior_sd = prior_mean, prior_sd
        self.grid = scoring_grid(prior_mean, prior_sd)
        table = stacked_log_table(items.a, items.d, items.c, self.grid.points)
        self._log_p, self._log_q = table[: len(items)], table[len(items) :]
        self._a, self._d, self._c = items.a, items.d, items.c
        self._position = {item: k for k, item in enumerate(items.item_id.tolist())}
        self._lookup = _integer_lookup(items.item_id)

    def score(self, item_ids: Any, correct: Any) -> AbilityEstimate:
        """θ and SE from one user's answers (``correct`` 0/1 or bool, aligned with ``item_ids``)."""
        given = np.asarray(item_ids).reshape(-1)
        outcome = np.asarray(correct).reshape(-1)
        if given.size != outcome.size:
            raise ValueError("item_ids and correct must have the same length")
        if outcome.dtype != np.bool_ and outcome.size and not np.all(np.isin(outcome, (0, 1))):
            raise ValueError("correct must be 0 or 1 (or true/false)")
        position = self._positions(given)
        known = position >= 0
        position, outcome = position[known], outcome[known].astype(bool)
        n, unknown = int(position.size), int((~known).sum())
        if n == 0:
            return AbilityEstimate(self.prior_mean, self.prior_sd, 0, unknown)
        loglik = self._log_p[position[outcome]].sum(axis=0) + self._log_q[position[~outcome]].sum(axis=0)
        if self.method == "EAP":
            theta, se = _eap(loglik[None, :], self.grid)
            return AbilityEstimate(float(theta[0]), float(se[0]), n, unknown)
        return self._modal(loglik, position, outcome, unknown)

    def _positions(self, given: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
        """Row of each item id in the bank (-1: not in it): one array gather for integer ids of an
        integer bank (no Python object per answer), else a dict lookup per id."""
        if self._lookup is not None and given.dtype.kind in "iu":
            first, table = self._lookup
            offset = given.astype(np.int64) - first
            inside = (offset >= 0) & (offset < table.size)
            position = np.full(given.size, -1, dtype=np.intp)
            position[inside] = table[offset[inside]]
            return position
        ids = given.tolist()
        return np.fromiter((self._position.get(i, -1) for i in ids), dtype=np.intp, count=len(ids))

    def _modal(
        self, loglik: FloatArray, position: npt.NDArray[np.intp], outcome: npt.NDArray[np.bool_], unknown: int
    ) -> AbilityEstimate:
        is_map = self.method == "MAP"
        surface = loglik + (self.grid.log_weights if is_map else 0.0)
        start = self.grid.points[[int(np.argmax(surface))]]
        n = position.size
        theta, info = _fisher_scoring(
            np.zeros(n, dtype=np.int64),
            (self._a[position], self._d[position], self._c[position]),
            outcome.astype(np.float64),
            np.ones(n),
            start,
            self.prior_mean,
            1.0 / self.prior_sd**2 if is_map else 0.0,
            (float(self.grid.points[0]), float(self.grid.points[-1])),
        )
        return AbilityEstimate(float(theta[0]), float(1.0 / np.sqrt(max(info[0], 1e-12))), n, unknown)
