"""Sparse response data: who answered which item, and how often right and wrong.

Nothing here materialises a users × items dense matrix. The one structure every estimator uses is
``counts``, a CSR matrix of shape (N, 2J): column j holds how many times the user answered item j
correctly, column J + j how many times incorrectly. One sparse product ``counts @ table`` with a
(2J, Q) table of log P and log(1 − P) gives every user's log-likelihood at Q ability points.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

Duplicates = Literal["all", "last"]


@dataclass(frozen=True, eq=False)
class ResponsePairs:
    """One row per observed (user, item) pair; arrays of shape (P,).

    ``n_correct`` and ``n_total`` are counts (more than 1 where a user answered an item repeatedly).
    """

    user: npt.NDArray[np.int64]
    item: npt.NDArray[np.int64]
    n_correct: npt.NDArray[np.float64]
    n_total: npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Responses:
    """Dichotomous responses of N users to J items.

    ``user_ids`` (N,) and ``item_ids`` (J,) hold the original ids (any hashable: str or int), in
    order of first appearance; ``counts`` is the (N, 2J) float32 CSR matrix described above.
    """

    user_ids: npt.NDArray[Any]
    item_ids: npt.NDArray[Any]
    counts: sp.csr_matrix

    @classmethod
    def from_long(
        cls, user_ids: Any, item_ids: Any, correct: Any, duplicates: Duplicates = "all"
    ) -> Responses:
        """Build from long format: three equal-length sequences, one element per answer.

        ``correct`` must be 0/1 or boolean. ``duplicates`` says what to do when a user answered the
        same item more than once: ``"all"`` (default) keeps every answer as a separate observation
        (local independence is assumed across repeats); ``"last"`` keeps only the last one in input
        order (pass attempts sorted by time to keep the most recent).
        """
        users = _ids_column(user_ids, "user_id")
        items = _ids_column(item_ids, "item_id")
        outcome = _correct_column(correct)
        if not (users.size == items.size == outcome.size):
            raise ValueError(
                f"user_id, item_id and correct have different lengths ({users.size}, {items.size}, "
                f"{outcome.size}); give one value of each per answer"
            )
        if outcome.size == 0:
            raise ValueError(
                "no responses: the input is empty; give at least one (user_id, item_id, correct)"
            )
        user_codes, user_uniques = pd.factorize(users, sort=False)
        item_codes, item_uniques = pd.factorize(items, sort=False)
        if duplicates == "last":
            keep = ~pd.DataFrame({"u": user_codes, "i": item_codes}).duplicated(keep="last").to_numpy()
            user_codes, item_codes, outcome = user_codes[keep], item_codes[keep], outcome[keep]
        elif duplicates != "all":
            raise ValueError(f"duplicates must be 'all' or 'last', not {duplicates!r}")
        n_items = item_uniques.size
        columns = item_codes + n_items * (1 - outcome)
        counts = _stacked_counts(user_codes, columns, user_uniques.size, n_items)
        return cls(np.asarray(user_uniques), np.asarray(item_uniques), counts)

    @classmethod
    def from_matrix(cls, matrix: Any, user_ids: Any = None, item_ids: Any = None) -> Responses:
        """Build from a dense (N, J) array of 0, 1 and NaN (missing); for small classic data sets."""
        values = np.asarray(matrix, dtype=np.float64)
        if values.ndim != 2:
            raise ValueError("the response matrix must be two-dimensional (users × items)")
        rows, cols = np.nonzero(~np.isnan(values))
        users = np.arange(values.shape[0]) if user_ids is None else np.asarray(user_ids)
        items = np.arange(values.shape[1]) if item_ids is None else np.asarray(item_ids)
        return cls.from_long(users[rows], items[cols], values[rows, cols])

    @property
    def n_users(self) -> int:
        return int(self.user_ids.size)

    @property
    def n_items(self) -> int:
        return int(self.item_ids.size)

    @property
    def n_obs(self) -> int:
        """Number of answers (repeats counted)."""
        return round(float(self.counts.sum(dtype=np.float64)))

    @cached_property
    def correct_counts(self) -> sp.csr_matrix:
        """(N, J) CSR: correct answers per user and item."""
        return sp.csr_matrix(self.counts[:, : self.n_items])

    @cached_property
    def observed_counts(self) -> sp.csr_matrix:
        """(N, J) CSR: answers per user and item (right or wrong)."""
        j = self.n_items
        return sp.csr_matrix(self.counts[:, :j] + self.counts[:, j:])

    @cached_property
    def pairs(self) -> ResponsePairs:
        """The observed (user, item) pairs with their counts, ordered by user."""
        observed = self.observed_counts.tocoo()
        right = self.correct_counts
        n_correct = np.asarray(right[observed.row, observed.col], dtype=np.float64).reshape(-1)
        return ResponsePairs(
            user=observed.row.astype(np.int64),
            item=observed.col.astype(np.int64),
            n_correct=n_correct,
            n_total=observed.data.astype(np.float64),
        )

    def responses_per_user(self) -> npt.NDArray[np.int64]:
        """Answers per user, shape (N,)."""
        return np.asarray(self.counts.sum(axis=1, dtype=np.float64)).reshape(-1).round().astype(np.int64)

    def correct_per_item(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(correct answers, all answers) per item, each shape (J,)."""
        totals = np.asarray(self.counts.sum(axis=0, dtype=np.float64)).reshape(-1)
        right, wrong = totals[: self.n_items], totals[self.n_items :]
        return right, right + wrong

    def is_complete(self) -> bool:
        """True when every user answered every item exactly once."""
        observed = self.observed_counts
        return bool(observed.nnz == self.n_users * self.n_items and np.all(observed.data == 1))

    def aligned_to(self, item_ids: Any) -> Responses:
        """The same users with the item axis replaced by ``item_ids``, in that order.

        Answers to items not in ``item_ids`` are dropped; items without answers get empty columns.
        """
        target = np.asarray(item_ids).reshape(-1)
        lookup = {item: k for k, item in enumerate(target.tolist())}
        new_position = np.array([lookup.get(i, -1) for i in self.item_ids.tolist()], dtype=np.int64)
        coo = self.counts.tocoo()
        j_old, j_new = self.n_items, target.size
        is_wrong = coo.col >= j_old
        mapped = new_position[coo.col - j_old * is_wrong]
        keep = mapped >= 0
        columns = mapped[keep] + j_new * is_wrong[keep]
        counts = sp.csr_matrix(
            (coo.data[keep], (coo.row[keep], columns)), shape=(self.n_users, 2 * j_new), dtype=np.float32
        )
        return Responses(self.user_ids, target, counts)


def _stacked_counts(
    rows: npt.NDArray[np.intp], columns: npt.NDArray[np.int64], n_users: int, n_items: int
) -> sp.csr_matrix:
    data = np.ones(rows.size, dtype=np.float32)
    counts = sp.csr_matrix((data, (rows, columns)), shape=(n_users, 2 * n_items), dtype=np.float32)
    counts.sum_duplicates()
    return counts


def _ids_column(values: Any, name: str) -> npt.NDArray[Any]:
    array = np.asarray(values).reshape(-1) if not isinstance(values, pd.Series) else values.to_numpy()
    if array.size and pd.isna(array).any():
        first = int(np.flatnonzero(pd.isna(array))[0])
        raise ValueError(f"{name} has missing values (first at row {first}); every answer needs an id")
    return array


def _correct_column(values: Any) -> npt.NDArray[np.int64]:
    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values).reshape(-1)
    if array.dtype == bool:
        return array.astype(np.int64)
    if array.size and pd.isna(array).any():
        rows = np.flatnonzero(pd.isna(array))
        raise ValueError(
            f"correct has {rows.size} missing value(s) (rows {_list(rows)}); every answer must be 0 or 1"
        )
    numeric = pd.to_numeric(pd.Series(array), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isin(numeric, (0.0, 1.0)))
    if bad.size:
        examples = ", ".join(repr(_plain(v)) for v in pd.unique(array[bad])[:3])
        raise ValueError(
            f"correct must be 0 or 1 (or true/false); found {bad.size} other value(s), e.g. {examples} "
            f"(rows {_list(bad)})"
        )
    return numeric.astype(np.int64)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _list(rows: npt.NDArray[np.intp], limit: int = 5) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    return shown + (", …" if rows.size > limit else "")
