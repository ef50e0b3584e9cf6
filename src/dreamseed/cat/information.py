"""P(correct) and Fisher information of every bank item at one θ.

``dreamseed.irt`` has the probability (``probability_correct``) but keeps the item information
private inside its scorers, so the one-line 3PL formula is written here:

    I(θ) = a² · (P − c)² / (1 − c)² · (1 − P) / P        (units: 1/θ², per item)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dreamseed.cat.bank import ItemBank
from dreamseed.irt import probability_correct

FloatArray = npt.NDArray[np.float64]

_FLOOR = 1e-12


def item_probability(bank: ItemBank, theta: float) -> FloatArray:
    """P(correct | θ) per item, shape (J,)."""
    return probability_correct(theta, bank.a, bank.b, bank.c)


def item_information(bank: ItemBank, theta: float, p: FloatArray | None = None) -> FloatArray:
    """Fisher information of each item at θ, shape (J,); ``p`` may pass P(θ) already computed."""
    p = item_probability(bank, theta) if p is None else p
    p = np.clip(p, _FLOOR, 1.0 - _FLOOR)
    slope = bank.a * (p - bank.c) / (1.0 - bank.c)
    return np.asarray(slope * slope * (1.0 - p) / p, dtype=np.float64)
