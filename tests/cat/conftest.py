"""Fixtures of the adaptive-testing tests."""

from __future__ import annotations

import pytest
from tests.cat.banks import make_bank

from dreamseed.cat import ItemBank


@pytest.fixture(scope="session")
def bank() -> ItemBank:
    return make_bank(120)
