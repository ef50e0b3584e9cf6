"""Numbers as JSON-ready Python values: the one place numpy scalars and non-finite floats are converted.

Pure (numpy and the standard library), so the IRT engine, the evaluation core and the job runtime
share it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def python_scalar(value: Any) -> Any:
    """A numpy scalar as the matching Python number (``np.int64(3)`` → ``3``); anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def finite_json(value: Any) -> Any:
    """JSON-safe: numpy scalars as Python numbers, NaN/±inf as None (jsonb has no NaN), recursively
    through dicts (keys as str) and lists/tuples (as lists)."""
    if isinstance(value, dict):
        return {str(k): finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    value = python_scalar(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
