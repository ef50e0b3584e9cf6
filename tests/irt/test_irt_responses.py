"""Building sparse response data from long format, and rejecting bad input clearly."""

from __future__ import annotations

import numpy as np
import pytest

from dreamseed.irt import Responses


def test_long_format_becomes_counts_per_user_and_item() -> None:
    data = Responses.from_long(["u1", "u1", "u2"], ["q1", "q2", "q1"], [1, 0, 1])
    assert data.user_ids.tolist() == ["u1", "u2"]
    assert data.item_ids.tolist() == ["q1", "q2"]
    assert data.n_users == 2
    assert data.n_items == 2
    assert data.n_obs == 3
    assert data.correct_counts.toarray().tolist() == [[1, 0], [1, 0]]
    assert data.observed_counts.toarray().tolist() == [[1, 1], [1, 0]]


def test_ids_keep_their_type_and_first_appearance_order() -> None:
    data = Responses.from_long([42, 7, 42], np.array([3, 1, 1]), [True, False, True])
    assert data.user_ids.tolist() == [42, 7]
    assert data.item_ids.tolist() == [3, 1]
    mixed = Responses.from_long(["a", 5, "a"], ["x", "x", "y"], [1, 1, 0])
    assert mixed.user_ids.tolist() == ["a", 5]


def test_repeated_answers_are_all_kept_by_default() -> None:
    data = Responses.from_long(["u", "u", "u"], ["q", "q", "q"], [1, 0, 1])
    assert data.n_obs == 3
    assert data.correct_counts.toarray().tolist() == [[2]]
    assert data.observed_counts.toarray().tolist() == [[3]]
    assert not data.is_complete()


def test_last_answer_wins_when_asked() -> None:
    data = Responses.from_long(["u", "u", "v", "u"], ["q", "q", "q", "r"], [1, 0, 1, 1], duplicates="last")
    assert data.n_obs == 3
    assert data.correct_counts.toarray().tolist() == [[0, 1], [1, 0]]


@pytest.mark.parametrize(
    ("correct", "message"),
    [
        ([1, 2, 0], "correct must be 0 or 1"),
        ([1, 0.5, 0], "0.5"),
        (["1", "yes", "0"], "'yes'"),
        ([1, None, 0], "missing"),
        ([1, float("nan"), 0], "missing"),
    ],
)
def test_bad_correctness_is_named(correct: list[object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Responses.from_long(["a", "b", "c"], ["q", "q", "q"], correct)


def test_string_digits_and_booleans_are_accepted() -> None:
    data = Responses.from_long(["a", "b", "c"], ["q", "q", "q"], np.array(["1", "0", "1"], dtype=object))
    assert data.correct_counts.sum() == 2


def test_empty_input_and_mismatched_lengths_are_rejected() -> None:
    with pytest.raises(ValueError, match="no responses"):
        Responses.from_long([], [], [])
    with pytest.raises(ValueError, match="different lengths"):
        Responses.from_long(["a"], ["q", "r"], [1, 0])
    with pytest.raises(ValueError, match="user_id has missing"):
        Responses.from_long(["a", None], ["q", "r"], [1, 0])
    with pytest.raises(ValueError, match="duplicates must be"):
        Responses.from_long(["a"], ["q"], [1], duplicates="first")  # type: ignore[arg-type]


def test_aligning_to_an_item_list_drops_and_adds_columns() -> None:
    data = Responses.from_long(["u", "u", "v"], ["q1", "q2", "q3"], [1, 0, 1])
    aligned = data.aligned_to(["q3", "q9", "q1"])
    assert aligned.item_ids.tolist() == ["q3", "q9", "q1"]
    assert aligned.correct_counts.toarray().tolist() == [[0, 0, 1], [1, 0, 0]]
    assert aligned.responses_per_user().tolist() == [1, 1]


def test_from_matrix_treats_nan_as_missing() -> None:
    data = Responses.from_matrix([[1, np.nan], [0, 1]])
    assert data.n_obs == 3
    assert data.is_complete() is False
    assert Responses.from_matrix([[1, 0], [0, 1]]).is_complete()


def test_codes_build_the_same_counts_as_ids_and_drop_unused_ids() -> None:
    users, items, correct = [2, 0, 2, 0, 2], [1, 1, 0, 1, 1], [1, 0, 1, 1, 0]
    coded = Responses.from_codes(users, items, correct, ["a", "unused", "c"], ["q0", "q1"])
    named = Responses.from_long(["c", "a", "c", "a", "c"], ["q1", "q1", "q0", "q1", "q1"], correct)
    assert coded.user_ids.tolist() == ["a", "c"]  # the codes' order, "unused" dropped
    assert coded.item_ids.tolist() == ["q0", "q1"]
    assert coded.counts.toarray().tolist() == [[0, 1, 0, 1], [1, 1, 0, 1]]
    order = [named.user_ids.tolist().index(u) for u in coded.user_ids]
    columns = [named.item_ids.tolist().index(i) for i in coded.item_ids]
    named_counts = named.counts.toarray()[order][:, columns + [c + 2 for c in columns]]
    assert named_counts.tolist() == coded.counts.toarray().tolist()
    last = Responses.from_codes(users, items, correct, ["a", "unused", "c"], ["q0", "q1"], duplicates="last")
    assert last.counts.toarray().tolist() == [[0, 1, 0, 0], [1, 0, 0, 1]]


def test_codes_are_checked() -> None:
    with pytest.raises(ValueError, match=r"user codes must lie in \[0, 2\) \(rows 1\)"):
        Responses.from_codes([0, 2], [0, 0], [1, 0], ["a", "b"], ["q"])
    with pytest.raises(ValueError, match="found 1 other value"):
        Responses.from_codes([0, 1], [0, 0], [1, 3], ["a", "b"], ["q"])


def test_pairs_merge_right_and_wrong_answers_of_a_user_to_an_item() -> None:
    rng = np.random.default_rng(3)
    user, item, correct = rng.integers(0, 40, 2000), rng.integers(0, 25, 2000), rng.integers(0, 2, 2000)
    data = Responses.from_long(user, item, correct)
    pairs = data.pairs
    observed, right = data.observed_counts.toarray(), data.correct_counts.toarray()
    rows, cols = np.nonzero(observed)
    assert pairs.user.tolist() == rows.tolist()
    assert pairs.item.tolist() == cols.tolist()
    assert pairs.n_total.tolist() == observed[rows, cols].tolist()
    assert pairs.n_correct.tolist() == right[rows, cols].tolist()
    assert (
        data.counts.toarray().tolist() == Responses.from_long(user, item, correct).counts.toarray().tolist()
    )
    assert data.responses_per_user().tolist() == observed.sum(axis=1).tolist()
    assert data.correct_per_item()[1].tolist() == observed.sum(axis=0).tolist()
