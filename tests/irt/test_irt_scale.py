"""Scale continuity: fixed-parameter calibration, linking constants, drift."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dreamseed.irt import (
    ItemParameters,
    LinkingConstants,
    calibrate,
    mean_sigma_linking,
    parameter_drift,
    simulate_items,
    simulate_responses,
    stocking_lord_linking,
    transform_abilities,
    transform_items,
)


def to_new_scale(items: ItemParameters, a_const: float, b_const: float) -> ItemParameters:
    """The same items expressed on a scale with θ_ref = A·θ_new + B."""
    return ItemParameters.from_arrays(
        items.item_id, items.a * a_const, (items.b - b_const) / a_const, items.c
    )


@pytest.mark.parametrize("model", ["1PL", "2PL", "3PL"])
def test_anchors_are_kept_exactly_and_put_theta_on_their_scale(model: str) -> None:
    truth = simulate_items(40, model, seed=21)
    sim = simulate_responses(6000, 40, 0.6, model, seed=21, items=truth, theta_mean=0.5, theta_sd=1.2)
    anchors = truth.take(np.arange(15))
    cal = calibrate(sim.responses, model, fixed_items=anchors)  # type: ignore[arg-type]
    kept = cal.items.subset(anchors.item_id)
    order = kept.positions(anchors.item_id)
    for name in ("a", "b", "c"):
        np.testing.assert_array_equal(getattr(kept, name)[order], getattr(anchors, name))
    assert np.all(kept.se_b == 0)
    assert set(cal.fixed_items) == set(anchors.item_id.tolist())
    assert cal.population_mean == pytest.approx(0.5, abs=0.1)
    assert cal.population_sd == pytest.approx(1.2, abs=0.1)
    free = cal.items.take(np.flatnonzero(~np.isin(cal.items.item_id, anchors.item_id)))
    true_free = truth.take(truth.positions(free.item_id))
    assert np.sqrt(np.mean((free.b - true_free.b) ** 2)) < 0.2
    assert np.mean(cal.abilities.theta) == pytest.approx(np.mean(sim.theta), abs=0.1)


def test_anchors_absent_from_the_data_are_ignored() -> None:
    sim = simulate_responses(1000, 10, 0.8, "2PL", seed=22)
    stranger = ItemParameters.from_arrays(["not-in-data"], a=[1.0], b=[0.0])
    cal = calibrate(sim.responses, "2PL", fixed_items=stranger, estimate_population=False)
    assert cal.fixed_items == ()
    assert len(cal.items) == 10


@pytest.mark.parametrize("linker", [mean_sigma_linking, stocking_lord_linking])
def test_linking_recovers_known_constants(linker: object) -> None:
    reference = simulate_items(30, "3PL", seed=23)
    new = to_new_scale(reference, 1.3, -0.4)
    constants = linker(reference, new)  # type: ignore[operator]
    assert pytest.approx(1.3, abs=1e-5) == constants.A
    assert pytest.approx(-0.4, abs=1e-5) == constants.B
    assert constants.n_common == 30
    moved = transform_items(new, constants)
    np.testing.assert_allclose(moved.b, reference.b, atol=1e-4)
    np.testing.assert_allclose(moved.a, reference.a, atol=1e-4)


def test_linking_separate_calibrations_recovers_the_population_shift() -> None:
    truth = simulate_items(40, "2PL", seed=24)
    first = calibrate(simulate_responses(8000, 40, 0.5, "2PL", seed=24, items=truth).responses, "2PL")
    shifted = simulate_responses(8000, 40, 0.5, "2PL", seed=25, items=truth, theta_mean=0.6, theta_sd=1.25)
    second = calibrate(shifted.responses, "2PL")
    # second run's θ scale is standardised on its own group: θ_first = 1.25·θ_second + 0.6
    for link in (
        mean_sigma_linking(first.items, second.items),
        stocking_lord_linking(first.items, second.items),
    ):
        assert pytest.approx(1.25, abs=0.08) == link.A
        assert pytest.approx(0.6, abs=0.08) == link.B
    abilities = transform_abilities(second.abilities, stocking_lord_linking(first.items, second.items))
    assert np.mean(abilities.theta) == pytest.approx(0.6, abs=0.1)


def test_linking_needs_two_common_items() -> None:
    items = simulate_items(3, "2PL", seed=1)
    with pytest.raises(ValueError, match="at least 2 items"):
        mean_sigma_linking(items.take(np.array([0])), items)
    assert LinkingConstants(1.0, 0.0, "mean_sigma", 2).to_dict()["n_anchors_used"] == 2


def test_drift_flags_items_that_moved() -> None:
    before = simulate_items(20, "2PL", seed=26)
    after = ItemParameters.from_arrays(
        before.item_id,
        before.a,
        before.b + np.where(np.arange(20) == 3, 0.8, 0.01),
        before.c,
        se_b=np.full(20, 0.1),
    )
    drift = parameter_drift(before, after)
    assert drift.flagged.tolist() == [k == 3 for k in range(20)]
    summary = json.loads(json.dumps(drift.summary()))
    assert summary["n_shared"] == 20
    assert summary["flagged_items"] == [before.item_id[3]]
    assert summary["max_abs_delta_b"] == pytest.approx(0.8)
    assert parameter_drift(before, simulate_items(0, "2PL")).summary()["n_shared"] == 0
