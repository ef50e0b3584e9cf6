"""Drift of shared items' parameters between a previous and a current calibration.

Parameters are compared as given: link the current items to the previous scale first
(``linking.transform_items``) unless the current run held anchors fixed. An item is flagged when
|Δb| exceeds ``b_threshold`` and, where either run has a standard error for b, the change is also
significant: |Δb| / √(se_prev² + se_cur²) > ``z_threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dreamseed.irt.json_values import python_scalar
from dreamseed.irt.parameters import ItemParameters

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ParameterDrift:
    """Per shared item (arrays of shape (K,)): changes current − previous, z of Δb, flag."""

    item_id: npt.NDArray[Any]
    delta_a: FloatArray
    delta_b: FloatArray
    delta_c: FloatArray
    z_b: FloatArray
    flagged: npt.NDArray[np.bool_]
    b_threshold: float
    z_threshold: float

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary for ``mirt_fit_meta.metrics``."""
        n = int(self.item_id.size)

        def rms(x: FloatArray) -> float:
            return float(np.sqrt(np.mean(x**2))) if n else 0.0

        return {
            "n_shared": n,
            "n_flagged": int(self.flagged.sum()),
            "flagged_items": [python_scalar(i) for i in self.item_id[self.flagged]],
            "mean_delta_b": float(np.mean(self.delta_b)) if n else 0.0,
            "rmsd_b": rms(self.delta_b),
            "max_abs_delta_b": float(np.max(np.abs(self.delta_b), initial=0.0)),
            "rmsd_a": rms(self.delta_a),
            "rmsd_c": rms(self.delta_c),
            "b_threshold": self.b_threshold,
            "z_threshold": self.z_threshold,
        }


def parameter_drift(
    previous: ItemParameters, current: ItemParameters, b_threshold: float = 0.3, z_threshold: float = 1.96
) -> ParameterDrift:
    """Changes of the items present in both sets (none shared gives empty arrays)."""
    where = current.positions(previous.item_id)
    shared = where >= 0
    before = previous.take(np.flatnonzero(shared))
    after = current.take(where[shared])
    delta_b = after.b - before.b
    se = np.sqrt(before.se_b**2 + after.se_b**2)
    z_b = np.where(se > 0, delta_b / np.where(se > 0, se, 1.0), 0.0)
    significant = np.where(se > 0, np.abs(z_b) > z_threshold, True)
    return ParameterDrift(
        item_id=before.item_id,
        delta_a=after.a - before.a,
        delta_b=delta_b,
        delta_c=after.c - before.c,
        z_b=z_b,
        flagged=(np.abs(delta_b) > b_threshold) & significant,
        b_threshold=b_threshold,
        z_threshold=z_threshold,
    )
