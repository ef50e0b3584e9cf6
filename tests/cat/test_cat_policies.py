"""The test and practice policies, content balancing and exclusions."""

from __future__ import annotations

import numpy as np

from dreamseed.cat import ItemBank, Policy, item_information, item_probability, next_item


def test_test_policy_serves_the_most_informative_item_at_the_current_theta(bank: ItemBank) -> None:
    answers = [(0, True), (1, False), (2, True)]
    step = next_item(bank, answers, Policy("test"))
    information = item_information(bank, step.theta)
    information[[0, 1, 2]] = -1
    assert step.item == int(np.argmax(information))
    assert step.information == information[step.item]
    assert not step.stop
    assert "maximum information" in step.reason
    assert step.item_id == bank.items.item_id[step.item]


def test_first_item_uses_the_prior_mean(bank: ItemBank) -> None:
    step = next_item(bank, [], Policy("test"))
    assert (step.theta, step.se, step.n_answered) == (0.0, 1.0, 0)
    assert step.item == int(np.argmax(item_information(bank, 0.0)))


def test_estimator_is_eap_until_answers_are_mixed_then_map(bank: ItemBank) -> None:
    all_right = [(0, True), (1, True)]
    mixed = [(0, True), (1, False)]
    assert (
        next_item(bank, all_right, Policy()).theta
        == next_item(bank, all_right, Policy(estimator="EAP")).theta
    )
    assert next_item(bank, mixed, Policy()).theta == next_item(bank, mixed, Policy(estimator="MAP")).theta
    assert next_item(bank, mixed, Policy()).theta != next_item(bank, mixed, Policy(estimator="EAP")).theta


def test_practice_policy_serves_the_unseen_item_closest_to_the_target(bank: ItemBank) -> None:
    answers = [(5, True), (6, True), (7, False)]
    for target in (0.5, 0.7, 0.9):
        step = next_item(bank, answers, Policy("practice", target_p=target))
        gap = np.abs(item_probability(bank, step.theta) - target)
        gap[[5, 6, 7]] = np.inf
        assert step.item == int(np.argmin(gap))
        assert abs(step.p_correct - target) == gap.min()
        assert f"target {target:.2f}" in step.reason


def test_a_single_topic_restricts_every_item(bank: ItemBank) -> None:
    answers: list[tuple[int, bool]] = []
    for k in range(6):
        step = next_item(bank, answers, Policy(topic="geometry", se_stop=None))
        assert step.item is not None
        assert bank.topic[step.item] == "geometry"
        answers.append((step.item, k % 2 == 0))


def test_content_balancing_follows_the_target_shares(bank: ItemBank) -> None:
    shares = {"algebra": 0.5, "geometry": 0.3, "numbers": 0.2}
    answers: list[tuple[int, bool]] = []
    for k in range(10):
        step = next_item(bank, answers, Policy(topic_shares=shares, se_stop=None))
        assert step.item is not None
        assert "target share" in step.reason
        answers.append((step.item, k % 3 != 0))
    served = [str(bank.topic[i]) for i, _ in answers]
    assert [served.count(t) for t in shares] == [5, 3, 2]


def test_a_zero_share_topic_is_never_served(bank: ItemBank) -> None:
    shares = {"algebra": 0.0, "geometry": 1.0}
    answers: list[tuple[int, bool]] = []
    for k in range(5):
        step = next_item(bank, answers, Policy(topic_shares=shares, se_stop=None))
        assert step.item is not None
        answers.append((step.item, k % 2 == 0))
    assert {str(bank.topic[i]) for i, _ in answers} == {"geometry"}


def test_excluded_items_are_never_served(bank: ItemBank) -> None:
    best = next_item(bank, [], Policy()).item
    assert best is not None
    excluded = frozenset(range(0, 120, 2)) | {best}
    answers: list[tuple[int, bool]] = []
    for k in range(10):
        step = next_item(bank, answers, Policy(excluded=excluded, se_stop=None))
        assert step.item is not None
        assert step.item not in excluded
        answers.append((step.item, k % 2 == 0))


def test_answered_items_are_never_served_again(bank: ItemBank) -> None:
    answers: list[tuple[int, bool]] = []
    for k in range(20):
        step = next_item(bank, answers, Policy("practice", se_stop=None))
        assert step.item is not None
        answers.append((step.item, k % 3 != 0))
    assert len({i for i, _ in answers}) == 20
