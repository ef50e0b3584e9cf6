"""Turning the input frames' columns into plain numpy arrays (codes, nanoseconds, masks)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np
import pandas as pd
from numpy.typing import NDArray

DAY_NS = 86_400 * 10**9
_EPOCH = date(1970, 1, 1)


def user_index(users: Iterable[str] | pd.Index | pd.Series) -> pd.Index:
    """The unique user ids to compute for, in first-seen order, as an Index named ``user_id``."""
    index = pd.Index(list(users) if not isinstance(users, pd.Index | pd.Series) else users)
    return pd.Index(index.drop_duplicates(), name="user_id")


def require_columns(frame: pd.DataFrame, columns: Sequence[str], frame_name: str) -> None:
    """Raise ValueError naming the columns ``frame`` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{frame_name} lacks columns {missing}")


def codes_in(users: pd.Index, values: pd.Series) -> NDArray[np.intp]:
    """Position of each value in ``users`` (shape (n,)), -1 where absent or null.

    Categorical input is mapped through its categories, which is much faster for large frames.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        by_category = users.get_indexer(values.cat.categories)
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, by_category[codes], -1).astype(np.intp)
    return users.get_indexer(values).astype(np.intp)


def utc_nanoseconds(values: pd.Series) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Nanoseconds since the epoch (UTC) of a timestamp column, and which ones are not null.

    tz-aware values are converted to UTC; naive values are taken as UTC. Shapes (n,), (n,).
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        naive = values.dt.tz_convert("UTC").dt.tz_localize(None)
    else:
        naive = pd.to_datetime(values, utc=True, errors="coerce").dt.tz_localize(None)
    raw = naive.to_numpy()
    valid = ~np.isnat(raw)
    nanos = raw.astype("datetime64[ns]").view(np.int64)
    return nanos, valid


def day_number(day: date) -> int:
    """Days from 1970-01-01 to ``day``."""
    return (day - _EPOCH).days


def date_day_numbers(values: pd.Series) -> NDArray[np.float64]:
    """Days since the epoch of a date column (dates, timestamps, None/NaT -> NaN), shape (n,)."""
    nanos, valid = utc_nanoseconds(pd.Series(pd.to_datetime(values, errors="coerce")))
    return np.where(valid, np.floor_divide(nanos, DAY_NS), np.nan)


def bool_and_known(values: pd.Series) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """A boolean column as (value, is-known) arrays of shape (n,); unknown values read False."""
    if values.dtype == np.bool_:
        return values.to_numpy(), np.ones(len(values), dtype=np.bool_)
    known = values.notna().to_numpy()
    flags = values.astype("boolean").to_numpy(dtype=np.bool_, na_value=False)
    return flags, known


def float_or_nan(values: pd.Series) -> NDArray[np.float64]:
    """A numeric column as float64 (shape (n,)), NaN where null or not numeric."""
    numbers = pd.to_numeric(values, errors="coerce")
    return np.asarray(numbers.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
