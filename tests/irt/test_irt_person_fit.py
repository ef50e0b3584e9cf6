"""Zh (lz) against R mirt: tests/testthat/test-01-mirtOne.R pins LSAT7 2PL item Zh from
``itemfit(mod, 'Zh')`` at tolerance 1e-2 (EAP abilities)."""

from __future__ import annotations

import numpy as np
from tests.irt.test_irt_lsat import LSAT7, expand

from dreamseed.irt import Priors, Responses, calibrate, mirt_grid, score
from dreamseed.irt.person_fit import item_zh, misfitting_persons, person_zh


def test_lsat7_item_zh_matches_mirt() -> None:
    data = expand(LSAT7)
    cal = calibrate(data, "2PL", quadrature=mirt_grid(), priors=Priors(c=None))
    theta = score(data, cal.items, "EAP", grid=mirt_grid()).theta
    np.testing.assert_allclose(
        item_zh(data, cal.items, theta), [1.431838, 6.354917, 5.310844, 5.804449, 0.696139], atol=1e-2
    )


def test_person_zh_flags_an_aberrant_pattern() -> None:
    data = expand(LSAT7)
    cal = calibrate(data, "2PL", quadrature=mirt_grid(), priors=Priors(c=None))
    theta = score(data, cal.items, "EAP", grid=mirt_grid()).theta
    zh = person_zh(data, cal.items, theta)
    assert np.isfinite(zh).all()
    assert abs(float(np.mean(zh))) < 0.5
    # a pattern right on the hardest items, wrong on the easiest, misfits
    order = np.argsort(cal.items.b)
    pattern = np.zeros(5)
    pattern[order[-2:]] = 1
    odd = Responses.from_matrix(pattern[None, :], item_ids=cal.items.item_id)
    odd_zh = person_zh(odd, cal.items, np.array([0.0]))
    assert misfitting_persons(odd_zh)[0]
