"""Stopping rules, checked before each item is chosen; the first that holds ends the session."""

from __future__ import annotations

from dreamseed.cat.policy import Policy

SE_REACHED = "se"
MAX_ITEMS = "max_items"
NO_ELIGIBLE_ITEM = "no_eligible_item"
NO_INFORMATIVE_ITEM = "no_informative_item"


def stop_before_selection(n_answered: int, se: float, policy: Policy) -> str | None:
    """``se`` when SE ≤ ``policy.se_stop`` (θ units), ``max_items`` at ``policy.max_items`` answers."""
    if policy.se_stop is not None and n_answered > 0 and se <= policy.se_stop:
        return SE_REACHED
    if n_answered >= policy.max_items:
        return MAX_ITEMS
    return None


def stop_for_bank(n_eligible: int, best_information: float, policy: Policy) -> str | None:
    """``no_eligible_item`` when nothing may be served; for ``test``, ``no_informative_item`` when the
    most informative eligible item gives less than ``policy.min_information`` (1/θ²)."""
    if n_eligible == 0:
        return NO_ELIGIBLE_ITEM
    if policy.kind == "test" and best_information < policy.min_information:
        return NO_INFORMATIVE_ITEM
    return None
