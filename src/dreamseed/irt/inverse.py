"""The inverse of an information matrix, with its condition number.

Input: a symmetric (P, P) information matrix; output: the (P, P) covariance and the condition number.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Above this many parameters the inverse goes through Cholesky (see ``inverse_with_condition``).
DIRECT_EIGEN = 300


def inverse_with_condition(information: FloatArray) -> tuple[FloatArray, float]:
    """Inverse with eigenvalues floored (so results stay finite) and the condition number.

    Above ``DIRECT_EIGEN`` parameters a well-conditioned matrix is inverted through its Cholesky
    factor and the condition number taken from the extreme eigenvalues by Lanczos (a full
    eigendecomposition of a 1,000-parameter matrix costs several times as much).
    """
    if information.size == 0:
        return information.copy(), 1.0
    sym = 0.5 * (information + information.T)
    if sym.shape[0] > DIRECT_EIGEN:
        fast = _cholesky_inverse(sym)
        if fast is not None:
            return fast
    values, vectors = np.linalg.eigh(sym)
    condition = float(values.max() / values.min()) if values.min() > 0 else float("inf")
    values = np.maximum(values, np.maximum(values.max(), 1.0) * 1e-10)
    return np.asarray((vectors / values) @ vectors.T, dtype=np.float64), condition


def _cholesky_inverse(sym: FloatArray) -> tuple[FloatArray, float] | None:
    """(inverse, condition number) of a positive definite ``sym``; None when it is not (or nearly not)."""
    from scipy.linalg import lapack  # here: scipy.linalg costs ~0.3 s to import
    from scipy.sparse.linalg import eigsh

    factor, info = lapack.dpotrf(sym, lower=0)
    if info != 0:
        return None
    inverse, info = lapack.dpotri(factor, lower=0)
    if info != 0:
        return None
    inverse = np.triu(inverse) + np.triu(inverse, 1).T
    largest = float(eigsh(sym, k=1, which="LA", return_eigenvectors=False, tol=1e-10)[0])
    largest_inverse = float(eigsh(inverse, k=1, which="LA", return_eigenvectors=False, tol=1e-10)[0])
    condition = largest * largest_inverse
    if not np.isfinite(condition) or condition > 1e10 or largest_inverse <= 0:
        return None
    return np.asarray(inverse, dtype=np.float64), condition
