"""Bad inputs get a CatInputError (a ValueError) subclass with a clear message."""

from __future__ import annotations

import numpy as np
import pytest

from dreamseed.cat import (
    CatInputError,
    EmptyBankError,
    EmptyTopicError,
    InvalidPolicyError,
    ItemBank,
    Policy,
    UnknownItemError,
    next_item,
    sympson_hetter_parameters,
)


def test_an_empty_bank_is_refused() -> None:
    with pytest.raises(EmptyBankError, match="empty"):
        ItemBank.from_arrays([], [], [])


def test_errors_are_value_errors() -> None:
    for error in (EmptyBankError, EmptyTopicError, InvalidPolicyError, UnknownItemError):
        assert issubclass(error, CatInputError)
        assert issubclass(error, ValueError)


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ([(120, True)], "item index 120 is not in the bank"),
        ([(-1, False)], "item index -1 is not in the bank"),
        ([(3, True), (3, False)], r"\[3\] answered more than once"),
        ([("i3", True)], "must be an integer"),
        ([(3, "yes")], "correct must be"),
        ([(3,)], "expected \\(item index, correct\\)"),
    ],
)
def test_malformed_answers_are_refused(bank: ItemBank, answers: list, message: str) -> None:
    with pytest.raises(UnknownItemError, match=message):
        next_item(bank, answers, Policy())


def test_a_topic_with_no_items_is_refused(bank: ItemBank) -> None:
    with pytest.raises(EmptyTopicError, match="topic 'chemistry' has no items"):
        next_item(bank, [], Policy(topic="chemistry"))
    with pytest.raises(EmptyTopicError, match="chemistry"):
        next_item(bank, [], Policy(topic_shares={"algebra": 0.5, "chemistry": 0.5}))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"kind": "exam"}, "kind must be one of"),
        ({"target_p": 1.2}, "target_p"),
        ({"max_items": 0}, "max_items"),
        ({"se_stop": -0.1}, "se_stop"),
        ({"topic_shares": {"algebra": 0.5}}, "sum to 1"),
        ({"topic": "algebra", "topic_shares": {"algebra": 1.0}}, "not both"),
        ({"exposure": "sometimes"}, "exposure must be one of"),
        ({"exposure": "sympson-hetter", "exposure_parameters": np.full(3, 2.0)}, r"\[0, 1\]"),
    ],
)
def test_bad_policies_are_refused(options: dict, message: str) -> None:
    with pytest.raises(InvalidPolicyError, match=message):
        Policy(**options)


def test_bank_arrays_must_agree() -> None:
    with pytest.raises(ValueError, match="expected 2"):
        ItemBank.from_arrays(["x", "y"], [1.0, 1.0], [0.0])
    with pytest.raises(ValueError, match="duplicates"):
        ItemBank.from_arrays(["x", "x"], [1.0, 1.0], [0.0, 0.1])


def test_sympson_hetter_needs_a_sample_and_a_sensible_target(bank: ItemBank) -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidPolicyError, match="empty"):
        sympson_hetter_parameters(bank, np.array([]), Policy(), rng)
    with pytest.raises(InvalidPolicyError, match="r_max"):
        sympson_hetter_parameters(bank, np.zeros(3), Policy(), rng, r_max=0.0)
