"""Per-user reductions over flat arrays of user codes (0..n_users-1), without a loop per user."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min


def counts(user: NDArray[np.intp], n_users: int) -> NDArray[np.int64]:
    """Rows per user, shape (n_users,)."""
    return np.bincount(user, minlength=n_users).astype(np.int64)


def sums(user: NDArray[np.intp], values: NDArray[np.float64], n_users: int) -> NDArray[np.float64]:
    """Sum of ``values`` per user (0 for users without rows), shape (n_users,)."""
    return np.bincount(user, weights=values, minlength=n_users).astype(np.float64)


def means(user: NDArray[np.intp], values: NDArray[np.float64], n_users: int) -> NDArray[np.float64]:
    """Mean of the non-NaN ``values`` per user, NaN for users without any, shape (n_users,)."""
    known = ~np.isnan(values)
    n = counts(user[known], n_users)
    total = sums(user[known], values[known], n_users)
    return np.divide(total, n, out=np.full(n_users, np.nan), where=n > 0)


def medians(user: NDArray[np.intp], values: NDArray[np.float64], n_users: int) -> NDArray[np.float64]:
    """Median of ``values`` per user (mean of the middle two for even counts), NaN without rows."""
    out = np.full(n_users, np.nan)
    if len(user):
        per_user = pd.Series(values).groupby(user, sort=False).median()
        out[per_user.index.to_numpy()] = per_user.to_numpy()
    return out


def maxima(user: NDArray[np.intp], values: NDArray[np.int64], n_users: int) -> NDArray[np.int64]:
    """Largest value per user; int64 min for users without rows. Shape (n_users,)."""
    out = np.full(n_users, _INT64_MIN, dtype=np.int64)
    np.maximum.at(out, user, values)
    return out


def minima(user: NDArray[np.intp], values: NDArray[np.int64], n_users: int) -> NDArray[np.int64]:
    """Smallest value per user; int64 max for users without rows. Shape (n_users,)."""
    out = np.full(n_users, _INT64_MAX, dtype=np.int64)
    np.minimum.at(out, user, values)
    return out


def spans(
    user: NDArray[np.intp], values: NDArray[np.int64], n_users: int, where: NDArray[np.bool_]
) -> NDArray[np.int64]:
    """Largest minus smallest value per user where ``where`` (shape (n_users,)) holds, else 0."""
    largest, smallest = maxima(user, values, n_users), minima(user, values, n_users)
    return np.subtract(largest, smallest, out=np.zeros(n_users, dtype=np.int64), where=where)


def pair_codes(user: NDArray[np.intp], other: NDArray[np.int64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Dense codes of the distinct (user, other) pairs.

    ``other`` holds non-negative codes (below 2**31). Returns (code of each row's pair, shape (n,);
    user of each distinct pair, shape (n_pairs,)).
    """
    width = np.int64(other.max()) + 1 if len(other) else np.int64(1)
    combined = user.astype(np.int64) * width + other
    pair, distinct = pd.factorize(combined)
    return pair.astype(np.intp), (np.asarray(distinct, dtype=np.int64) // width).astype(np.intp)


def distinct_counts(user: NDArray[np.intp], other: NDArray[np.int64], n_users: int) -> NDArray[np.int64]:
    """Number of distinct ``other`` codes per user, shape (n_users,)."""
    _, pair_user = pair_codes(user, other)
    return counts(pair_user, n_users)


def distinct_value_counts(
    user: NDArray[np.intp], values: NDArray[np.int64], n_users: int
) -> NDArray[np.int64]:
    """Number of distinct ``values`` (any int64, e.g. nanoseconds) per user, shape (n_users,).

    One hash pass over a combined (user, value) key when it fits in int64 (values are first
    divided by 1000 when all are multiples of it, as PostgreSQL's microsecond times are).
    """
    if not len(values):
        return np.zeros(n_users, dtype=np.int64)
    offset = values - values.min()
    if not (offset % 1000).any():
        offset = offset // 1000
    width = int(offset.max()) + 1
    if n_users * width >= 2**62:
        codes, _ = pd.factorize(values)
        return distinct_counts(user, codes.astype(np.int64), n_users)
    distinct = pd.unique(user.astype(np.int64) * width + offset)
    return counts((distinct // width).astype(np.intp), n_users)


def latest_rows(user: NDArray[np.intp], order_ns: NDArray[np.int64], n_users: int) -> NDArray[np.intp]:
    """Row index of each user's latest row by ``order_ns`` (ties: the last such row), -1 if none."""
    latest = maxima(user, order_ns, n_users)
    is_latest = order_ns == latest[user]
    rows = np.full(n_users, -1, dtype=np.intp)
    np.maximum.at(rows, user[is_latest], np.flatnonzero(is_latest))
    return rows


def take_or_nan(values: NDArray[np.float64], rows: NDArray[np.intp]) -> NDArray[np.float64]:
    """``values[rows]`` with NaN where a row is -1 (as from ``latest_rows``). Shape of ``rows``."""
    found = rows >= 0
    out = np.full(len(rows), np.nan)
    out[found] = values[rows[found]]
    return out
