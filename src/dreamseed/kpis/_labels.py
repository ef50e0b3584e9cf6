"""Text columns built from masks (None where no mask holds)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def labels_where(choices: Sequence[tuple[NDArray[np.bool_], str]], n: int) -> NDArray[np.object_]:
    """Object array of shape (n,): the label of the first mask that holds at each position, else None."""
    out = np.full(n, None, dtype=object)
    for mask, label in reversed(choices):
        out[mask] = label
    return out
