"""Every stopping rule, and the step returned when stopping."""

from __future__ import annotations

import numpy as np
from tests.cat.banks import make_bank

from dreamseed.cat import ItemBank, Policy, next_item


def _run(bank: ItemBank, policy: Policy, truth: float = 0.3, seed: int = 0) -> list[tuple[int, bool]]:
    rng = np.random.default_rng(seed)
    answers: list[tuple[int, bool]] = []
    while True:
        step = next_item(bank, answers, policy, rng)
        if step.stop:
            return answers
        assert step.item is not None
        p = bank.c[step.item] + (1 - bank.c[step.item]) / (
            1 + np.exp(-bank.a[step.item] * (truth - bank.b[step.item]))
        )
        answers.append((step.item, bool(rng.random() < p)))


def test_stops_once_se_reaches_the_threshold(bank: ItemBank) -> None:
    answers = _run(bank, Policy(se_stop=0.45, max_items=60))
    step = next_item(bank, answers, Policy(se_stop=0.45, max_items=60))
    assert step.stop_reason == "se"
    assert step.se <= 0.45
    assert step.item is None
    assert next_item(bank, answers[:-1], Policy(se_stop=0.45, max_items=60)).se > 0.45
    assert "SE" in step.reason


def test_stops_at_the_maximum_length(bank: ItemBank) -> None:
    answers = _run(bank, Policy(se_stop=None, max_items=7))
    assert len(answers) == 7
    step = next_item(bank, answers, Policy(se_stop=None, max_items=7))
    assert (step.stop, step.stop_reason, step.n_answered) == (True, "max_items", 7)
    assert np.isfinite(step.theta)


def test_stops_when_no_eligible_item_is_left() -> None:
    small = make_bank(6)
    answers = _run(small, Policy("practice", se_stop=None, max_items=50))
    assert len(answers) == 6
    assert next_item(small, answers, Policy("practice", se_stop=None)).stop_reason == "no_eligible_item"
    everything = frozenset(range(6))
    assert next_item(small, [], Policy(excluded=everything)).stop_reason == "no_eligible_item"


def test_stops_when_the_topic_is_used_up() -> None:
    small = make_bank(9)
    answers = _run(small, Policy(topic="algebra", se_stop=None, max_items=50))
    assert {str(small.topic[i]) for i, _ in answers} == {"algebra"}
    assert len(answers) == 3


def test_stops_when_no_item_is_informative() -> None:
    far = ItemBank.from_arrays(["easy1", "easy2", "easy3"], a=[1.0, 1.2, 0.9], b=[-9.0, -8.5, -9.5])
    step = next_item(far, [], Policy("test", min_information=0.01))
    assert step.stop_reason == "no_informative_item"
    assert next_item(far, [], Policy("test", min_information=0.0)).item is not None
    assert next_item(far, [], Policy("practice", min_information=0.01)).item is not None
