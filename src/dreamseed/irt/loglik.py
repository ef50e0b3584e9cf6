"""The marginal log-likelihood of responses under given items (float64 throughout).

The yardstick used to compare calibrations, including other packages' estimates, on one grid.
"""

from __future__ import annotations

import numpy as np

from dreamseed.irt.estep import log_likelihood_by_user
from dreamseed.irt.item_model import stacked_log_table
from dreamseed.irt.parameters import ItemParameters
from dreamseed.irt.quadrature import QuadratureGrid, mirt_grid
from dreamseed.irt.responses import Responses

_ROWS_PER_CHUNK = 50_000


def marginal_loglik(responses: Responses, items: ItemParameters, grid: QuadratureGrid | None = None) -> float:
    """Σ_users log ∫ Π P(answers | θ) dN(θ) on ``grid`` (default: 61 points on [−6, 6], N(0, 1)).

    Every item answered in ``responses`` must be in ``items``.
    """
    missing = items.positions(responses.item_ids) < 0
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} answered item(s) have no parameters, e.g. {responses.item_ids[missing][0]!r}"
        )
    grid = grid or mirt_grid()
    aligned = responses.aligned_to(items.item_id)
    table = stacked_log_table(items.a, items.d, items.c, grid.points)
    total = 0.0
    for start in range(0, aligned.n_users, _ROWS_PER_CHUNK):
        block = aligned.counts[start : start + _ROWS_PER_CHUNK]
        total += float(np.sum(log_likelihood_by_user(block, table, grid.log_weights)))
    return total
