"""Linking two calibrations that share items: constants (A, B) with θ_reference = A·θ_new + B.

Items move from the new scale to the reference scale as a* = a / A, b* = A·b + B, c* = c; abilities
as θ* = A·θ + B, se* = |A|·se (``transform_items``, ``transform_abilities``).

- **Mean/sigma** (Marco 1977), as the original R service: A = sd(b_ref)/sd(b_new),
  B = mean(b_ref) − A·mean(b_new) over the common items.
- **Stocking–Lord** (1983): (A, B) minimise Σ_q w_q [T_ref(θ_q) − T_new*(θ_q)]², the squared
  difference of the common items' test characteristic curves, over 41 points on [−4, 4] of the
  reference scale with N(0, 1) weights; started at mean/sigma, solved by Nelder–Mead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dreamseed.irt.parameters import Abilities, ItemParameters, probability_correct
from dreamseed.irt.quadrature import QuadratureGrid

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LinkingConstants:
    """θ_reference = A·θ_new + B, estimated by ``method`` from ``n_common`` shared items."""

    A: float
    B: float
    method: str
    n_common: int

    def to_dict(self) -> dict[str, Any]:
        return {"A": self.A, "B": self.B, "method": self.method, "n_anchors_used": self.n_common}


def _common(
    reference: ItemParameters, new: ItemParameters, minimum: int
) -> tuple[ItemParameters, ItemParameters]:
    where = new.positions(reference.item_id)
    shared = where >= 0
    if int(shared.sum()) < minimum:
        raise ValueError(
            f"linking needs at least {minimum} items present in both calibrations; found {int(shared.sum())}"
        )
    return reference.take(np.flatnonzero(shared)), new.take(where[shared])


def mean_sigma_linking(reference: ItemParameters, new: ItemParameters) -> LinkingConstants:
    """Mean/sigma constants from the difficulties of the items common to both sets."""
    ref, cur = _common(reference, new, 2)
    sd_new = float(np.std(cur.b, ddof=1))
    if sd_new <= 0:
        raise ValueError("mean/sigma linking needs common items with different difficulties")
    a_const = float(np.std(ref.b, ddof=1)) / sd_new
    b_const = float(np.mean(ref.b) - a_const * np.mean(cur.b))
    return LinkingConstants(a_const, b_const, "mean_sigma", len(ref))


def stocking_lord_linking(
    reference: ItemParameters, new: ItemParameters, grid: QuadratureGrid | None = None
) -> LinkingConstants:
    """Stocking–Lord constants (test characteristic curve method) over the common items."""
    ref, cur = _common(reference, new, 2)
    grid = grid or QuadratureGrid.normal(41, 4.0)
    target = probability_correct(grid.points[:, None], ref.a, ref.b, ref.c).sum(axis=1)
    weights = grid.weights

    def loss(x: FloatArray) -> float:
        a_const, b_const = x
        if a_const <= 1e-6:
            return 1e12
        moved = probability_correct(grid.points[:, None], cur.a / a_const, a_const * cur.b + b_const, cur.c)
        return float(weights @ (target - moved.sum(axis=1)) ** 2)

    try:
        start = mean_sigma_linking(ref, cur)
        x0 = np.array([start.A, start.B])
    except ValueError:
        x0 = np.array([1.0, 0.0])
    from scipy.optimize import minimize  # here: it costs ~0.3 s to import, `irt fit` does not need it

    result = minimize(
        loss, x0, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-14, "maxiter": 4000}
    )
    return LinkingConstants(float(result.x[0]), float(result.x[1]), "stocking_lord", len(ref))


def transform_items(items: ItemParameters, linking: LinkingConstants) -> ItemParameters:
    """Items moved from the new scale to the reference scale."""
    a_const, b_const = linking.A, linking.B
    return ItemParameters(
        item_id=items.item_id,
        a=items.a / a_const,
        b=a_const * items.b + b_const,
        c=items.c,
        se_a=items.se_a / abs(a_const),
        se_b=items.se_b * abs(a_const),
        se_c=items.se_c,
    )


def transform_abilities(abilities: Abilities, linking: LinkingConstants) -> Abilities:
    """Abilities moved from the new scale to the reference scale."""
    return Abilities(
        user_id=abilities.user_id,
        theta=linking.A * abilities.theta + linking.B,
        se=abs(linking.A) * abilities.se,
        n_responses=abilities.n_responses,
        method=abilities.method,
    )
