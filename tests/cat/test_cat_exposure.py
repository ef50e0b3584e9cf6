"""Exposure control: randomesque spreads the choices; Sympson–Hetter K keeps exposure near r_max."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tests.cat.banks import make_bank

from dreamseed.cat import (
    InvalidPolicyError,
    ItemBank,
    Policy,
    item_information,
    next_item,
    run_simulees,
    simulate,
    sympson_hetter_parameters,
)


def test_randomesque_picks_among_the_k_best_first_items(bank: ItemBank) -> None:
    rng = np.random.default_rng(4)
    chosen = {
        next_item(bank, [], Policy(exposure="randomesque", randomesque_k=5), rng).item for _ in range(200)
    }
    top5 = set(np.argsort(item_information(bank, 0.0))[-5:].tolist())
    assert chosen == top5


def test_randomesque_lowers_the_maximum_exposure(bank: ItemBank) -> None:
    theta = np.random.default_rng(1).normal(size=60)
    plain = simulate(bank, theta, Policy(se_stop=None, max_items=5), np.random.default_rng(2))
    spread = simulate(
        bank,
        theta,
        Policy(se_stop=None, max_items=5, exposure="randomesque", randomesque_k=8),
        np.random.default_rng(2),
    )
    assert plain.max_exposure == 1.0
    assert spread.max_exposure < 0.5
    assert spread.share_of_bank_used > 1.5 * plain.share_of_bank_used


def test_sympson_hetter_parameters_keep_the_maximum_exposure_near_the_target() -> None:
    bank = make_bank(80, seed=3)
    policy = Policy(se_stop=None, max_items=5)
    rng = np.random.default_rng(7)
    sample = rng.normal(size=100)
    result = sympson_hetter_parameters(bank, sample, policy, rng, r_max=0.25, iterations=6)
    assert result.k.shape == (80,)
    assert np.all((result.k > 0) & (result.k <= 1))
    assert result.max_exposure[0] == 1.0
    controlled = replace(policy, exposure="sympson-hetter", exposure_parameters=result.k)
    fresh = np.random.default_rng(8).normal(size=100)
    report = simulate(bank, fresh, controlled, np.random.default_rng(9))
    assert report.max_exposure <= 0.25 + 0.1
    assert simulate(bank, fresh, policy, np.random.default_rng(9)).max_exposure == 1.0


def test_sympson_hetter_all_ones_is_plain_maximum_information(bank: ItemBank) -> None:
    policy = Policy(exposure="sympson-hetter", exposure_parameters=np.ones(len(bank)))
    answers = [(3, True), (4, False)]
    assert (
        next_item(bank, answers, policy, np.random.default_rng(0)).item
        == next_item(bank, answers, Policy()).item
    )


def test_sympson_hetter_zero_k_items_are_skipped_while_others_pass(bank: ItemBank) -> None:
    best = next_item(bank, [], Policy()).item
    assert best is not None
    k = np.ones(len(bank))
    k[best] = 0.0
    step = next_item(
        bank, [], Policy(exposure="sympson-hetter", exposure_parameters=k), np.random.default_rng(0)
    )
    assert step.item != best
    assert best in step.examined


def test_exposure_control_needs_a_generator_and_matching_parameters(bank: ItemBank) -> None:
    with pytest.raises(InvalidPolicyError, match="Generator"):
        next_item(bank, [], Policy(exposure="randomesque"))
    with pytest.raises(InvalidPolicyError, match="exposure_parameters"):
        Policy(exposure="sympson-hetter")
    with pytest.raises(InvalidPolicyError, match="the bank has 120"):
        next_item(
            bank,
            [],
            Policy(exposure="sympson-hetter", exposure_parameters=np.ones(3)),
            np.random.default_rng(),
        )


def test_sympson_hetter_reports_the_items_whose_lottery_failed(bank: ItemBank) -> None:
    order = np.argsort(item_information(bank, 0.0))[::-1]
    k = np.ones(len(bank))
    k[order[:3]] = 0.0  # the three best items always fail their lottery
    step = next_item(
        bank, [], Policy(exposure="sympson-hetter", exposure_parameters=k), np.random.default_rng(0)
    )
    assert step.item == order[3]
    assert sorted(step.rejected) == sorted(order[:3].tolist())
    assert set(step.examined) == {*order[:4].tolist()}
    plain = next_item(bank, [], Policy())
    assert plain.rejected == ()


def test_an_item_ruled_out_stays_out_for_the_rest_of_the_session(bank: ItemBank) -> None:
    policy = Policy(exposure="sympson-hetter", exposure_parameters=np.full(len(bank), 0.5))
    rng = np.random.default_rng(3)
    answers: list[tuple[int, bool]] = []
    ruled_out: set[int] = set()
    for _ in range(8):
        step = next_item(bank, answers, policy, rng, ruled_out)
        assert step.item is not None
        assert step.item not in ruled_out
        assert not ruled_out & set(step.examined)
        ruled_out.update(step.rejected)
        answers.append((step.item, bool(rng.random() < 0.5)))
    assert ruled_out


def test_with_rejections_ruled_out_each_item_is_examined_at_most_once_per_simulee() -> None:
    bank = make_bank(80, seed=3)
    policy = Policy(se_stop=None, max_items=5)
    sample = np.random.default_rng(7).normal(size=100)
    result = sympson_hetter_parameters(bank, sample, policy, np.random.default_rng(7), 0.25, 6)
    controlled = replace(policy, exposure="sympson-hetter", exposure_parameters=result.k)
    trace = run_simulees(bank, sample, controlled, np.random.default_rng(9))
    assert trace.examined.max() <= sample.size
    assert trace.administered.max() <= trace.examined.max()
