"""mirt-calibrate's DIF step: with MIRT_DIF_GROUP set (e.g. ``org_id``), every item of the window
is tested for differential functioning between the user groups by the likelihood-ratio test with
all other items as anchors (``irt.dif_lr.lr_dif``, the run's model, Benjamini–Hochberg across
items), and the result is stored in the item's params JSON (``params.dif``), which the console's
item table turns into the flag ``dif``.

Only what the data can support is tested: groups with fewer than ``MIN_GROUP_USERS`` users are
left out, an item is tested only when every remaining group answered it ``MIN_ITEM_ANSWERS`` times,
and at most ``MAX_DIF_ITEMS`` items are tested (one nested multiple-group fit each); otherwise the
step says why it skipped, in the log and in the run's metrics (``metrics.dif``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dreamseed.irt import Responses
from dreamseed.irt.dif_lr import lr_dif
from dreamseed.irt.json_values import finite_json

MIN_GROUP_USERS = 50
MIN_ITEM_ANSWERS = 20
MAX_DIF_ITEMS = 200
ALPHA = 0.05


@dataclass(frozen=True)
class DifOutcome:
    """Per tested item (str id) its ``params.dif`` entry, and the run's summary (``metrics.dif``)."""

    items: dict[str, dict[str, Any]]
    summary: dict[str, Any]


def item_dif(responses: Responses, groups: pd.DataFrame, grouping: str, model: str) -> DifOutcome:
    """DIF of the window's items between the groups (``groups``: user_id, group as text)."""
    lookup = dict(zip(groups["user_id"], groups["group"], strict=True))
    labels = np.array([lookup.get(str(u)) for u in responses.user_ids.tolist()], dtype=object)
    counts = pd.Series(labels[labels != None]).value_counts()  # noqa: E711
    kept = sorted(counts.index[counts >= MIN_GROUP_USERS].tolist())
    summary: dict[str, Any] = {"grouping": grouping, "method": "lr", "alpha": ALPHA,
                               "groups": {g: int(counts[g]) for g in kept}}  # fmt: skip
    if len(kept) < 2:
        return DifOutcome({}, summary | {"skipped": f"fewer than two groups with {MIN_GROUP_USERS}+ users"})
    rows = np.flatnonzero(np.isin(labels, kept))
    data = Responses(responses.user_ids[rows], responses.item_ids, responses.counts[rows])
    tested = _testable_items(data, labels[rows], kept)
    if len(tested) < 2 or len(tested) > MAX_DIF_ITEMS:
        reason = f"{len(tested)} items answered {MIN_ITEM_ANSWERS}+ times in every group"
        return DifOutcome({}, summary | {"skipped": reason + f" (needs 2 to {MAX_DIF_ITEMS})"})
    data = data.aligned_to(tested)
    reference = max(kept, key=lambda g: (counts[g], g))
    result = lr_dif(data, labels[rows], model, reference=reference, alpha=ALPHA)  # type: ignore[arg-type]
    entries = {
        str(row["item_id"]): finite_json(
            {
                "grouping": grouping,
                "method": "lr",
                "X2": row["X2"],
                "df": row["df"],
                "p": row["p"],
                "adj_p": row["adj_p"],
                "flagged": row["flagged"],
                "reference": reference,
            }
        )
        for row in result.rows()
    }
    flagged = [str(i) for i in result.flagged_items()]
    return DifOutcome(entries, summary | {"tested": len(entries), "flagged": flagged, "reference": reference})


def _testable_items(data: Responses, labels: np.ndarray, kept: list[str]) -> np.ndarray:
    """Items answered at least MIN_ITEM_ANSWERS times in every kept group."""
    observed = data.observed_counts
    enough = np.ones(data.n_items, dtype=bool)
    for group in kept:
        per_item = np.asarray(observed[np.flatnonzero(labels == group)].sum(axis=0)).reshape(-1)
        enough &= per_item >= MIN_ITEM_ANSWERS
    return np.asarray(data.item_ids[enough])


def with_dif(items: pd.DataFrame, outcome: DifOutcome) -> pd.DataFrame:
    """``items`` (item_id, model, params JSON) with ``params.dif`` set for the tested items."""
    if not outcome.items:
        return items
    params = [
        json.dumps(json.loads(p) | {"dif": outcome.items[i]}) if i in outcome.items else p
        for i, p in zip(items["item_id"], items["params"], strict=True)
    ]
    return items.assign(params=params)


def flag_dif(
    context: Any, responses: Responses, user_ids: np.ndarray, items: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The job step: read the users' groups under MIRT_DIF_GROUP, test, and return ``items`` with
    ``params.dif`` and the summary for ``metrics.dif`` (``context``: the run's JobContext;
    ``responses`` with integer user codes and ``user_ids`` the ids of the codes, as
    ``calibration_steps.responses_of`` gives them)."""
    from dreamseed.storage.user_groups import read_user_groups

    grouping = context.settings.mirt_dif_group
    with context.engine.connect() as connection:
        groups = read_user_groups(connection, grouping)
    named = Responses(
        np.asarray(user_ids)[responses.user_ids.astype(np.int64)], responses.item_ids, responses.counts
    )
    outcome = item_dif(named, groups, grouping, context.settings.mirt_model)
    summary = outcome.summary
    if "skipped" in summary:
        context.log.warn(f"DIF by {grouping} skipped: {summary['skipped']}")
    else:
        context.log.info(
            f"DIF by {grouping}: {summary['tested']} items tested across {len(summary['groups'])} groups, "
            f"{len(summary['flagged'])} flagged (likelihood ratio, BH adjusted p < {ALPHA})"
        )
    return with_dif(items, outcome), summary
