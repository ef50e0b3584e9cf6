"""Quadrature grids over the ability scale θ: points and normal prior masses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class QuadratureGrid:
    """Q ability points (shape (Q,)) and log prior masses (shape (Q,), exp sums to 1).

    A rectangular grid with normal-density weights, as R mirt uses for unidimensional models
    (61 points on [−6, 6] there by default).
    """

    points: FloatArray
    log_weights: FloatArray

    @classmethod
    def normal(
        cls, n_points: int = 41, bound: float = 6.0, mean: float = 0.0, sd: float = 1.0
    ) -> QuadratureGrid:
        """Equally spaced points mean ± bound·sd, weights ∝ the N(mean, sd²) density."""
        if n_points < 3 or bound <= 0 or sd <= 0:
            raise ValueError("a quadrature grid needs n_points >= 3, bound > 0 and sd > 0")
        points = mean + sd * np.linspace(-bound, bound, n_points)
        return cls.on_points(points, mean, sd)

    @classmethod
    def on_points(cls, points: FloatArray, mean: float = 0.0, sd: float = 1.0) -> QuadratureGrid:
        """Given points, weights ∝ the N(mean, sd²) density at them."""
        log_density = -0.5 * ((np.asarray(points, dtype=np.float64) - mean) / sd) ** 2
        log_weights = log_density - np.logaddexp.reduce(log_density)
        return cls(np.asarray(points, dtype=np.float64), log_weights)

    @property
    def weights(self) -> FloatArray:
        return np.exp(self.log_weights)

    @property
    def mean(self) -> float:
        return float(np.sum(self.weights * self.points))

    @property
    def sd(self) -> float:
        return float(np.sqrt(np.sum(self.weights * (self.points - self.mean) ** 2)))


#: The estimation grid that reproduces R mirt's defaults (61 points on [−6, 6]).
def mirt_grid() -> QuadratureGrid:
    return QuadratureGrid.normal(61, 6.0)


#: The scoring grid of the original service: 81 points on [−4, 4], N(0, 1) prior.
def scoring_grid(mean: float = 0.0, sd: float = 1.0) -> QuadratureGrid:
    return QuadratureGrid.normal(81, 4.0, mean, sd)
