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
import scipy.sparse as sp

from dreamseed.irt.json_values import python_scalar

Duplicates = Literal["all", "last"]


class InvalidResponses(ValueError):
    """Input values that are not responses; ``rows`` (0-based positions in the input) say where.

    ``str(error)`` names the positions as rows from 0; a reader of a file can name its own line
    numbers instead with ``error.problem`` and ``error.rows``.
    """

    def __init__(self, problem: str, rows: npt.NDArray[np.intp]) -> None:
        self.problem = problem
        self.rows = np.asarray(rows, dtype=np.intp)
        super().__init__(f"{problem} (rows {_list(self.rows)})")


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
        user_codes, user_uniques = factorize(users)
        item_codes, item_uniques = factorize(items)
        if duplicates == "last":
            keep = _last_occurrences(user_codes * item_uniques.size + item_codes)
            user_codes, item_codes, outcome = user_codes[keep], item_codes[keep], outcome[keep]
        elif duplicates != "all":
            raise ValueError(f"duplicates must be 'all' or 'last', not {duplicates!r}")
        n_items = item_uniques.size
        columns = item_codes + n_items * (1 - outcome)
        counts = _stacked_counts(user_codes, columns, user_uniques.size, n_items)
        return cls(np.asarray(user_uniques), np.asarray(item_uniques), counts)

    @classmethod
    def from_codes(
        cls,
        user_codes: Any,
        item_codes: Any,
        correct: Any,
        user_ids: Any,
        item_ids: Any,
        duplicates: Duplicates = "all",
    ) -> Responses:
        """Build from integer codes, as a dictionary encoding yields them: answer k is user
        ``user_ids[user_codes[k]]`` to item ``item_ids[item_codes[k]]`` (codes (P,), ids (N,) and (J,)
        distinct, not checked). Ids that no answer uses are dropped; the others keep their order (so
        ids in order of first appearance stay so). Same checks of ``correct`` and the same
        ``duplicates`` as ``from_long``, without sorting or hashing any id.
        """
        users_all, items_all = np.asarray(user_ids).reshape(-1), np.asarray(item_ids).reshape(-1)
        users = _codes_column(user_codes, users_all.size, "user")
        items = _codes_column(item_codes, items_all.size, "item")
        outcome = _correct_column(correct)
        if not (users.size == items.size == outcome.size):
            raise ValueError(
                f"user codes, item codes and correct have different lengths ({users.size}, {items.size}, "
                f"{outcome.size}); give one value of each per answer"
            )
        if outcome.size == 0:
            raise ValueError(
                "no responses: the input is empty; give at least one (user_id, item_id, correct)"
            )
        users, kept_users = _used_codes(users, users_all.size)
        items, kept_items = _used_codes(items, items_all.size)
        n_items = kept_items.size
        if duplicates == "last":
            keep = _last_occurrences(users.astype(np.int64) * n_items + items)
            users, items, outcome = users[keep], items[keep], outcome[keep]
        elif duplicates != "all":
            raise ValueError(f"duplicates must be 'all' or 'last', not {duplicates!r}")
        columns = items + n_items * (1 - outcome)
        counts = _stacked_counts(users, columns, kept_users.size, n_items)
        return cls(users_all[kept_users], items_all[kept_items], counts)

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
        """The observed (user, item) pairs with their counts, ordered by user (then item)."""
        j, counts = self.n_items, self.counts
        wrong = counts.indices >= j
        # right + i·wrong on the (N, J) item axis: one C++ sort-and-sum per row merges a pair's right
        # and wrong cells (no column slicing, no search over all pairs)
        values = counts.data.astype(np.complex64)
        values[wrong] *= 1j
        merged = sp.csr_matrix(
            (values, counts.indices - j * wrong, counts.indptr.copy()), shape=(self.n_users, j), copy=False
        )
        merged.sum_duplicates()
        n_correct = merged.data.real.astype(np.float64)
        return ResponsePairs(
            user=np.repeat(np.arange(self.n_users, dtype=np.int64), np.diff(merged.indptr)),
            item=merged.indices.astype(np.int64),
            n_correct=n_correct,
            n_total=n_correct + merged.data.imag,
        )

    def responses_per_user(self) -> npt.NDArray[np.int64]:
        """Answers per user, shape (N,) (summed over chunks of users: no copy of the answers)."""
        totals = np.empty(self.n_users)
        lo = 0
        for block in row_blocks(self.counts, _ROWS_PER_BLOCK):
            rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
            totals[lo : lo + block.shape[0]] = np.bincount(rows, weights=block.data, minlength=block.shape[0])
            lo += block.shape[0]
        return totals.round().astype(np.int64)

    def correct_per_item(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(correct answers, all answers) per item, each shape (J,)."""
        totals = np.zeros(2 * self.n_items)
        for block in row_blocks(self.counts, _ROWS_PER_BLOCK):
            totals += np.bincount(block.indices, weights=block.data, minlength=2 * self.n_items)
        right, wrong = totals[: self.n_items], totals[self.n_items :]
        return right, right + wrong

    def is_complete(self) -> bool:
        """True when every user answered every item exactly once."""
        cells = self.n_users * self.n_items
        if self.counts.nnz < cells or self.counts.nnz > 2 * cells:
            return False  # fewer stored cells than pairs needed (or more than possible): no pairs built
        pairs = self.pairs
        return bool(pairs.n_total.size == cells and np.all(pairs.n_total == 1))

    def aligned_to(self, item_ids: Any) -> Responses:
        """The same users with the item axis replaced by ``item_ids``, in that order.

        Answers to items not in ``item_ids`` are dropped; items without answers get empty columns.
        """
        target = np.asarray(item_ids).reshape(-1)
        if target.size == self.n_items and np.array_equal(target, self.item_ids):
            return self
        lookup = {item: k for k, item in enumerate(target.tolist())}
        new_position = np.array([lookup.get(i, -1) for i in self.item_ids.tolist()], dtype=np.int64)
        j_old, j_new = self.n_items, target.size
        columns = self.counts.indices
        is_wrong = columns >= j_old
        mapped = new_position[columns - j_old * is_wrong]
        keep = mapped >= 0
        kept_before = np.concatenate([[0], np.cumsum(keep)])
        counts = sp.csr_matrix(
            (self.counts.data[keep], (mapped + j_new * is_wrong)[keep], kept_before[self.counts.indptr]),
            shape=(self.n_users, 2 * j_new),
        )
        return Responses(self.user_ids, target, counts)


#: Users per block where a method walks the answers block by block (bounds its temporaries).
_ROWS_PER_BLOCK = 1 << 16


def row_blocks(counts: sp.csr_matrix, size: int) -> list[sp.csr_matrix]:
    """Consecutive row blocks of at most ``size`` rows of a CSR matrix, as views of its data and
    indices (nothing copied but each block's row pointers); at least one block."""
    n_rows = counts.shape[0]
    blocks = []
    for lo in range(0, max(n_rows, 1), max(size, 1)):
        hi = min(lo + max(size, 1), n_rows)
        start, stop = counts.indptr[lo], counts.indptr[hi]
        blocks.append(
            sp.csr_matrix(
                (counts.data[start:stop], counts.indices[start:stop], counts.indptr[lo : hi + 1] - start),
                shape=(hi - lo, counts.shape[1]),
                copy=False,
            )
        )
    return blocks


def _stacked_counts(
    rows: npt.NDArray[np.intp], columns: npt.NDArray[np.int64], n_users: int, n_items: int
) -> sp.csr_matrix:
    data = np.ones(rows.size, dtype=np.float32)
    counts = sp.csr_matrix((data, (rows, columns)), shape=(n_users, 2 * n_items), dtype=np.float32)
    counts.sum_duplicates()
    return counts


def _codes_column(values: Any, n_ids: int, name: str) -> npt.NDArray[np.intp]:
    """Integer codes (P,) checked to lie in [0, n_ids)."""
    codes = np.asarray(values).reshape(-1)
    if codes.dtype.kind not in "iu":
        raise ValueError(f"{name} codes must be integers, not {codes.dtype}")
    bad = np.flatnonzero((codes < 0) | (codes >= n_ids))
    if bad.size:
        raise InvalidResponses(f"{name} codes must lie in [0, {n_ids})", bad)
    return codes.astype(np.intp, copy=False)


def _used_codes(codes: npt.NDArray[np.intp], n_ids: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """(codes renumbered over the used ids, positions of the used ids); unchanged when all are used."""
    used = np.bincount(codes, minlength=n_ids) > 0
    kept = np.flatnonzero(used)
    if kept.size == n_ids:
        return codes, kept
    renumber = np.cumsum(used) - 1
    return renumber[codes], kept


def factorize(values: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
    """(codes, uniques) with uniques in order of first appearance; works for mixed str/int ids."""
    array = _homogeneous(values)
    if array.dtype == object:
        lookup: dict[Any, int] = {}
        codes = np.fromiter((lookup.setdefault(v, len(lookup)) for v in array.tolist()), np.int64, array.size)
        uniques = np.empty(len(lookup), dtype=object)
        uniques[:] = list(lookup)
        return codes, uniques
    uniques, first, inverse = np.unique(array, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[inverse.reshape(-1)].astype(np.int64), uniques[order]


def _homogeneous(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Object arrays of only str (or only int) become str (int64) arrays so np.unique can sort them."""
    if values.dtype != object or values.size == 0:
        return values
    kinds = {type(v) for v in values[: min(values.size, 1000)].tolist()}
    if kinds == {str} and all(isinstance(v, str) for v in values.tolist()):
        return values.astype(str)
    if kinds <= {int, np.int64} and all(isinstance(v, (int, np.integer)) for v in values.tolist()):
        return values.astype(np.int64)
    return values


def _last_occurrences(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Mask keeping the last occurrence of each key."""
    reversed_first = np.unique(keys[::-1], return_index=True)[1]
    keep = np.zeros(keys.size, dtype=bool)
    keep[keys.size - 1 - reversed_first] = True
    return keep


def _is_missing(array: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    if array.dtype.kind == "f":
        return np.isnan(array)
    if array.dtype == object:
        return np.fromiter(
            (v is None or (isinstance(v, float) and v != v) for v in array.tolist()), bool, array.size
        )
    return np.zeros(array.size, dtype=bool)


def _ids_column(values: Any, name: str) -> npt.NDArray[Any]:
    if isinstance(values, (list, tuple)):
        array = np.empty(len(values), dtype=object)
        array[:] = values
    else:
        array = np.asarray(values).reshape(-1)
    missing = _is_missing(array)
    if missing.any():
        raise InvalidResponses(
            f"{name} has missing values; every answer needs an id", np.flatnonzero(missing)
        )
    return array


def _as_number(value: Any) -> float:
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _correct_column(values: Any) -> npt.NDArray[np.int64]:
    array = np.asarray(values).reshape(-1)
    if array.dtype == bool:
        return array.astype(np.int64)
    missing = _is_missing(array)
    if missing.any():
        rows = np.flatnonzero(missing)
        raise InvalidResponses(f"correct has {rows.size} missing value(s); every answer must be 0 or 1", rows)
    if array.dtype.kind in "iuf":
        numeric = array.astype(np.float64)
    else:
        numeric = np.fromiter((_as_number(v) for v in array.tolist()), np.float64, array.size)
    bad = np.flatnonzero(~np.isin(numeric, (0.0, 1.0)))
    if bad.size:
        examples = ", ".join(repr(python_scalar(v)) for v in _first_distinct(array[bad], 3))
        raise InvalidResponses(
            f"correct must be 0 or 1 (or true/false); found {bad.size} other value(s), e.g. {examples}", bad
        )
    return numeric.astype(np.int64)


def _first_distinct(values: npt.NDArray[Any], limit: int) -> list[Any]:
    seen: list[Any] = []
    for value in values.tolist():
        if value not in seen:
            seen.append(value)
        if len(seen) == limit:
            break
    return seen


def _list(rows: npt.NDArray[np.intp], limit: int = 5) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    return shown + (", …" if rows.size > limit else "")
