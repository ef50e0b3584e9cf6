"""Computerised adaptive testing on the calibrated item bank: pure, no I/O.

Given an ``ItemBank``, the answers so far [(item index, correct), …] and a ``Policy``,
``next_item`` returns the next item, why, θ, SE and whether to stop. ``simulate`` runs simulees
with known θ through the same function; ``sympson_hetter_parameters`` computes exposure-control
parameters by simulation. Randomness only through a passed-in ``numpy.random.Generator``.

Typical use::

    bank = ItemBank.from_arrays(ids, a, b, c, topic)
    step = next_item(bank, [(12, True), (40, False)], Policy("test"), rng)
"""

from dreamseed.cat.bank import ItemBank
from dreamseed.cat.errors import (
    CatInputError,
    EmptyBankError,
    EmptyTopicError,
    InvalidPolicyError,
    UnknownItemError,
)
from dreamseed.cat.exposure import ExposureParameters, k_from_observed, sympson_hetter_parameters
from dreamseed.cat.information import item_information, item_probability
from dreamseed.cat.policy import Policy
from dreamseed.cat.session import NextItem, estimate, next_item
from dreamseed.cat.simulate import SimulationReport, run_simulees, simulate

__all__ = [
    "CatInputError",
    "EmptyBankError",
    "EmptyTopicError",
    "ExposureParameters",
    "InvalidPolicyError",
    "ItemBank",
    "NextItem",
    "Policy",
    "SimulationReport",
    "UnknownItemError",
    "estimate",
    "item_information",
    "item_probability",
    "k_from_observed",
    "next_item",
    "run_simulees",
    "simulate",
    "sympson_hetter_parameters",
]
