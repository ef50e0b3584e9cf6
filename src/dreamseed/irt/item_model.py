"""The logistic item model on a quadrature grid, in slope–intercept form.

P(θ) = c + (1 − c)·s with s = σ(a·θ + d) and c = σ(γ). Every function is vectorised over items:
parameters have shape (J,), grid points shape (Q,), tables shape (J, Q), derivatives (J, Q, K)
with the parameter order (a, d, γ) truncated to K = 2 for the 1PL and 2PL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

ModelName = Literal["1PL", "2PL", "3PL", "Rasch"]
MODEL_NAMES: tuple[ModelName, ...] = ("1PL", "2PL", "3PL", "Rasch")


@dataclass(frozen=True)
class ItemModel:
    """What an item model estimates; EM, M-step, standard errors and scoring ask this value.

    ``n_params`` is the number of slope–intercept parameters (a, d[, γ]) per item in derivative
    tables; ``common_slope``: one slope shared by all free items (the 1PL); ``fixed_slope``: slopes
    held at 1 and the latent SD estimated instead (R mirt's Rasch); ``guessing``: a lower asymptote
    c = σ(γ) is estimated (the 3PL).
    """

    name: ModelName
    n_params: int
    common_slope: bool = False
    fixed_slope: bool = False
    guessing: bool = False

    @classmethod
    def named(cls, name: str | ItemModel) -> ItemModel:
        """The model called ``name`` ("1PL", "2PL", "3PL" or "Rasch"); an ItemModel passes through."""
        if isinstance(name, ItemModel):
            return name
        models = {
            "1PL": cls("1PL", 2, common_slope=True),
            "2PL": cls("2PL", 2),
            "3PL": cls("3PL", 3, guessing=True),
            "Rasch": cls("Rasch", 2, fixed_slope=True),
        }
        if name not in models:
            raise ValueError(f"model must be one of {', '.join(MODEL_NAMES)}, not {name!r}")
        return models[name]

    @property
    def per_item_slope(self) -> bool:
        """Each free item estimates its own slope (2PL, 3PL)."""
        return not (self.common_slope or self.fixed_slope)

    def free_parameter_count(self, n_free: int) -> int:
        """Item parameters estimated for ``n_free`` free items."""
        if self.common_slope:
            return n_free + (1 if n_free else 0)
        if self.fixed_slope:
            return n_free
        return self.n_params * n_free


#: P is kept inside [PROBABILITY_FLOOR, 1 − PROBABILITY_FLOOR] so logs stay finite.
PROBABILITY_FLOOR = 1e-12


def logistic(x: FloatArray) -> FloatArray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)), dtype=np.float64)


def logit(p: FloatArray) -> FloatArray:
    return np.asarray(np.log(p) - np.log1p(-p), dtype=np.float64)


def log_probability_tables(
    a: FloatArray, d: FloatArray, c: FloatArray, points: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(log P, log(1 − P)), each shape (J, Q)."""
    z = a[:, None] * points[None, :] + d[:, None]
    log_s = -np.logaddexp(0.0, -z)
    log_not_s = -np.logaddexp(0.0, z)
    with np.errstate(divide="ignore"):
        log_c = np.log(c)[:, None]
        log_1mc = np.log1p(-c)[:, None]
    log_p = np.logaddexp(log_c, log_1mc + log_s)
    log_q = log_1mc + log_not_s
    floor = np.log(PROBABILITY_FLOOR)
    return np.maximum(log_p, floor), np.maximum(log_q, floor)


def stacked_log_table(a: FloatArray, d: FloatArray, c: FloatArray, points: FloatArray) -> FloatArray:
    """[log P; log(1 − P)] stacked, shape (2J, Q): the right factor of ``Responses.counts @ table``."""
    log_p, log_q = log_probability_tables(a, d, c, points)
    return np.concatenate([log_p, log_q], axis=0)


@dataclass(frozen=True, eq=False)
class ProbabilityDerivatives:
    """P (J, Q), its gradient (J, Q, K) and Hessian (J, Q, K, K) with respect to (a, d, γ)[:K]."""

    p: FloatArray
    gradient: FloatArray
    hessian: FloatArray


def probability_derivatives(
    a: FloatArray, d: FloatArray, c: FloatArray, points: FloatArray, n_params: int, second: bool = False
) -> ProbabilityDerivatives:
    """Derivatives of P with respect to (a, d[, γ]); the Hessian only when ``second``."""
    z = a[:, None] * points[None, :] + d[:, None]
    s = logistic(z)
    one_minus_c = (1.0 - c)[:, None]
    ds = s * (1.0 - s)
    theta = np.broadcast_to(points[None, :], z.shape)
    p = np.clip(c[:, None] + one_minus_c * s, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
    gradient = np.empty((*z.shape, n_params))
    gradient[..., 0] = one_minus_c * ds * theta
    gradient[..., 1] = one_minus_c * ds
    c_slope = (c * (1.0 - c))[:, None]
    if n_params == 3:
        gradient[..., 2] = c_slope * (1.0 - s)
    hessian = np.zeros((*z.shape, n_params, n_params))
    if second:
        dds = one_minus_c * ds * (1.0 - 2.0 * s)
        hessian[..., 0, 0] = dds * theta * theta
        hessian[..., 0, 1] = hessian[..., 1, 0] = dds * theta
        hessian[..., 1, 1] = dds
        if n_params == 3:
            hessian[..., 0, 2] = hessian[..., 2, 0] = -c_slope * ds * theta
            hessian[..., 1, 2] = hessian[..., 2, 1] = -c_slope * ds
            hessian[..., 2, 2] = c_slope * (1.0 - 2.0 * c)[:, None] * (1.0 - s)
    return ProbabilityDerivatives(p=p, gradient=gradient, hessian=hessian)


def expected_loglik(right: FloatArray, wrong: FloatArray, p: FloatArray) -> FloatArray:
    """Σ_q r log P + w log(1 − P) per item, shape (J,), from expected counts (J, Q)."""
    p = np.clip(p, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
    return np.asarray(np.sum(right * np.log(p) + wrong * np.log1p(-p), axis=1), dtype=np.float64)
