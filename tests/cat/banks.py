"""Seeded item banks for the adaptive-testing tests."""

from __future__ import annotations

import numpy as np

from dreamseed.cat import ItemBank
from dreamseed.irt import simulate_items

TOPICS = ("algebra", "geometry", "numbers")


def make_bank(n_items: int, seed: int = 0, topics: tuple[str, ...] = TOPICS) -> ItemBank:
    """A 3PL bank (a ~ U(0.8, 2), b ~ N(0, 1), c ~ U(0.1, 0.3)), topics assigned in turn."""
    items = simulate_items(n_items, "3PL", seed)
    topic = np.array([topics[k % len(topics)] for k in range(n_items)])
    return ItemBank.from_arrays(items.item_id, items.a, items.b, items.c, topic)
