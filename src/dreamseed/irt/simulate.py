"""Seeded simulation of sparse response data with known truth (tests and benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dreamseed.irt.item_model import ItemModel
from dreamseed.irt.parameters import ItemParameters, probability_correct
from dreamseed.irt.responses import Responses

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class SimulatedData:
    """Responses with the items and abilities that generated them (``theta`` shape (N,))."""

    responses: Responses
    items: ItemParameters
    theta: FloatArray


def simulate_items(n_items: int, model: str = "2PL", seed: int = 0) -> ItemParameters:
    """The classic simulation design: a ~ U(0.8, 2.0) (1 for the 1PL), b ~ N(0, 1) cut to
    [−2.5, 2.5], c ~ U(0.1, 0.3) for the 3PL (else 0); ids are "i0", "i1", …."""
    rng = np.random.default_rng([seed, 1])
    kind = ItemModel.named(model)
    a = rng.uniform(0.8, 2.0, n_items) if kind.per_item_slope else np.ones(n_items)
    b = np.clip(rng.normal(0.0, 1.0, n_items), -2.5, 2.5)
    c = rng.uniform(0.1, 0.3, n_items) if kind.guessing else np.zeros(n_items)
    return ItemParameters.from_arrays(np.array([f"i{k}" for k in range(n_items)]), a, b, c)


def simulate_responses(
    n_users: int,
    n_items: int,
    observed: float,
    model: str = "2PL",
    seed: int = 0,
    items: ItemParameters | None = None,
    theta_mean: float = 0.0,
    theta_sd: float = 1.0,
) -> SimulatedData:
    """Each (user, item) cell is observed with probability ``observed`` (independently); θ ~
    N(theta_mean, theta_sd²); answers drawn from the model. Memory is O(observed cells).
    User ids are the integers 0 … N−1; users or items that end up with no answer are absent."""
    rng = np.random.default_rng([seed, 2])
    items = items or simulate_items(n_items, model, seed)
    n_items = len(items)
    theta = rng.normal(theta_mean, theta_sd, n_users)
    draws = round(-np.log1p(-observed) * n_users * n_items) if observed < 1 else n_users * n_items
    cells = (
        np.unique(rng.integers(0, n_users * n_items, draws, dtype=np.int64))
        if observed < 1
        else np.arange(n_users * n_items, dtype=np.int64)
    )
    user, item = np.divmod(cells, n_items)
    p = probability_correct(theta[user], items.a[item], items.b[item], items.c[item])
    correct = (rng.random(cells.size) < p).astype(np.int8)
    responses = Responses.from_long(user, items.item_id[item], correct)
    order = items.positions(responses.item_ids)
    return SimulatedData(responses, items.take(order), theta[responses.user_ids.astype(np.int64)])
