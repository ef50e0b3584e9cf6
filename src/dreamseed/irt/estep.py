"""The E-step: users' posteriors over the grid and expected item counts, by two sparse products.

With ``counts`` the (N, 2J) response-count matrix and ``table`` = [log P; log(1 − P)] of shape
(2J, Q), ``counts @ table`` is every user's log-likelihood at every grid point (N, Q), and
``counts.T @ posterior`` the expected number of right and wrong answers of each item at each
point (2J, Q). Both products run in float32 (about nnz × Q multiply-adds each); the
log-likelihood is accumulated in float64. Rows are split into blocks processed by a small thread
pool (scipy's sparse kernels release the GIL).
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]

#: Data with at least this many stored cells run the E-step products in float32.
FLOAT32_MIN_NNZ = 200_000


@dataclass(frozen=True, eq=False)
class EStep:
    """Result of one E-step.

    ``loglik``: marginal log-likelihood at the parameters that built the table (float);
    ``right``, ``wrong``: expected counts of right and wrong answers, each (J, Q);
    ``mass``: posterior mass at each grid point summed over users, (Q,).
    """

    loglik: float
    right: FloatArray
    wrong: FloatArray
    mass: FloatArray


def _block_estep(
    counts: sp.csr_matrix, table: npt.NDArray[Any], log_weights: npt.NDArray[Any]
) -> tuple[float, npt.NDArray[Any], FloatArray]:
    work = np.asarray(counts @ table)
    work += log_weights
    peak = work.max(axis=1, keepdims=True)
    work -= peak
    np.exp(work, out=work)
    total = work.sum(axis=1, keepdims=True)
    loglik = float(np.sum(peak, dtype=np.float64) + np.sum(np.log(total), dtype=np.float64))
    work /= total
    expected = np.asarray(counts.T @ work)
    return loglik, expected, work.sum(axis=0, dtype=np.float64)


class EStepper:
    """Runs E-steps on fixed data; ``n_threads`` row blocks are processed concurrently.

    Products run in float32 when the data hold at least ``FLOAT32_MIN_NNZ`` cells (where the
    factor-two saving matters and rounding noise in the summed log-likelihood stays far below
    any useful tolerance), in float64 otherwise.
    """

    def __init__(self, counts: sp.csr_matrix, n_threads: int = 2) -> None:
        self.n_items = counts.shape[1] // 2
        self.dtype = np.float32 if counts.nnz >= FLOAT32_MIN_NNZ else np.float64
        counts = counts.astype(self.dtype)
        n_rows = counts.shape[0]
        n_blocks = max(1, min(n_threads, n_rows // 5000))
        bounds = np.linspace(0, n_rows, n_blocks + 1).astype(int)
        self._blocks = [sp.csr_matrix(counts[lo:hi]) for lo, hi in itertools.pairwise(bounds)]
        self._pool = ThreadPoolExecutor(n_blocks) if n_blocks > 1 else None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def __call__(self, table: FloatArray, log_weights: FloatArray) -> EStep:
        """E-step with ``table`` (2J, Q) and prior ``log_weights`` (Q,)."""
        table_cast = np.ascontiguousarray(table, dtype=self.dtype)
        weights_cast = log_weights.astype(self.dtype)
        if self._pool is None:
            parts = [_block_estep(block, table_cast, weights_cast) for block in self._blocks]
        else:
            parts = list(
                self._pool.map(lambda block: _block_estep(block, table_cast, weights_cast), self._blocks)
            )
        expected: FloatArray = np.asarray(np.sum([part[1] for part in parts], axis=0, dtype=np.float64))
        j = self.n_items
        return EStep(
            loglik=float(sum(part[0] for part in parts)),
            right=expected[:j],
            wrong=expected[j:],
            mass=np.sum([part[2] for part in parts], axis=0),
        )


def log_likelihood_by_user(counts: sp.csr_matrix, table: FloatArray, log_weights: FloatArray) -> FloatArray:
    """Each user's log marginal likelihood, float64 throughout; shape (N,)."""
    work = np.asarray(counts.astype(np.float64) @ table) + log_weights
    peak = work.max(axis=1)
    return np.asarray(peak + np.log(np.exp(work - peak[:, None]).sum(axis=1)), dtype=np.float64)


def posterior_by_user(counts: sp.csr_matrix, table: FloatArray, log_weights: FloatArray) -> FloatArray:
    """Each user's posterior over the grid (rows sum to 1), float64; shape (N, Q)."""
    work = np.asarray(counts.astype(np.float64) @ table) + log_weights
    work -= work.max(axis=1, keepdims=True)
    np.exp(work, out=work)
    work /= work.sum(axis=1, keepdims=True)
    return work
