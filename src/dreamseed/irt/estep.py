"""The E-step: users' posteriors over the grid and expected item counts, by two sparse products.

With ``counts`` the (N, 2J) response-count matrix and ``table`` = [log P; log(1 − P)] of shape
(2J, Q), ``counts @ table`` is every user's log-likelihood at every grid point (N, Q), and
``counts.T @ posterior`` the expected number of right and wrong answers of each item at each
point (2J, Q). Both products run in float32 (about nnz × Q multiply-adds each); the
log-likelihood is accumulated in float64. Users are processed in chunks of at most
``CHUNK_CELLS`` users × points (so no users × points matrix exists for all users at once, and a
chunk's work stays in cache), the chunks shared by a small thread pool (scipy's sparse kernels
release the GIL). Chunks are views of the data: the E-step copies no answer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from dreamseed.irt.responses import row_blocks as user_chunks

FloatArray = npt.NDArray[np.float64]

#: Data with at least this many stored cells run the E-step products in float32.
FLOAT32_MIN_NNZ = 200_000
#: Users × points of one chunk's work matrix (float32: 4 MB).
CHUNK_CELLS = 1 << 20


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
    """Runs E-steps on fixed data; chunks of users are processed by ``n_threads`` threads.

    Products run in float32 when the data hold at least ``FLOAT32_MIN_NNZ`` cells (where the
    factor-two saving matters and rounding noise in the summed log-likelihood stays far below
    any useful tolerance), in float64 otherwise. Float32 data are used as they are (no copy).
    """

    def __init__(self, counts: sp.csr_matrix, n_threads: int = 2, n_points: int = 41) -> None:
        self.n_items = counts.shape[1] // 2
        self.dtype = np.float32 if counts.nnz >= FLOAT32_MIN_NNZ else np.float64
        counts = _as_dtype(counts, self.dtype)
        n_rows = counts.shape[0]
        n_threads = max(1, min(n_threads, n_rows // 5000))
        self._blocks = user_chunks(
            counts, max(1, min(CHUNK_CELLS // max(n_points, 1), -(-n_rows // n_threads)))
        )
        self._pool = ThreadPoolExecutor(n_threads) if n_threads > 1 and len(self._blocks) > 1 else None

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
        expected = np.zeros((2 * self.n_items, table.shape[1]))
        mass = np.zeros(table.shape[1])
        for part in parts:
            expected += part[1]
            mass += part[2]
        j = self.n_items
        return EStep(
            loglik=float(sum(part[0] for part in parts)), right=expected[:j], wrong=expected[j:], mass=mass
        )


def _as_dtype(counts: sp.csr_matrix, dtype: Any) -> sp.csr_matrix:
    return counts if counts.dtype == dtype else counts.astype(dtype)


def _chunk_size(n_points: int) -> int:
    return max(1, CHUNK_CELLS // max(n_points, 1))


def log_likelihood_by_user(counts: sp.csr_matrix, table: FloatArray, log_weights: FloatArray) -> FloatArray:
    """Each user's log marginal likelihood, float64 throughout; shape (N,)."""
    out = np.empty(counts.shape[0])
    lo = 0
    for block in user_chunks(counts, _chunk_size(table.shape[1])):
        work = np.asarray(_as_dtype(block, np.float64) @ table) + log_weights
        peak = work.max(axis=1)
        out[lo : lo + block.shape[0]] = peak + np.log(np.exp(work - peak[:, None]).sum(axis=1))
        lo += block.shape[0]
    return out


def posterior_by_user(counts: sp.csr_matrix, table: FloatArray, log_weights: FloatArray) -> FloatArray:
    """Each user's posterior over the grid (rows sum to 1), float64; shape (N, Q)."""
    out = np.empty((counts.shape[0], table.shape[1]))
    lo = 0
    for block in user_chunks(counts, _chunk_size(table.shape[1])):
        work = np.asarray(_as_dtype(block, np.float64) @ table) + log_weights
        work -= work.max(axis=1, keepdims=True)
        np.exp(work, out=work)
        work /= work.sum(axis=1, keepdims=True)
        out[lo : lo + block.shape[0]] = work
        lo += block.shape[0]
    return out
