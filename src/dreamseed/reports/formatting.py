"""How numbers and dates appear in the report (one place, so HTML and PDF agree).

- KPI values: 3 decimals (``0.420``); improvement I_t and changes carry a sign (``+0.052``).
- θ: 2 decimals with a sign (``+0.45``), SE 2 decimals, percentile 1 decimal.
- Probabilities in prose and accuracies: whole percent (``62%``).
- Dates: ISO ``YYYY-MM-DD``; the generation time ``YYYY-MM-DD HH:MM`` (plus the zone when known).
- Missing or non-finite values: the label table's "N/A".
"""

from __future__ import annotations

import datetime as dt

from dreamseed.reports.summaries import finite

SIGNED_KPIS = frozenset({"I_t"})


def kpi_text(name: str, value: float | None, na: str) -> str:
    """A KPI value in 3 decimals (signed for I_t), or ``na``."""
    value = finite(value)
    if value is None:
        return na
    return f"{value:+.3f}" if name in SIGNED_KPIS else f"{value:.3f}"


def change_text(current: float | None, previous: float | None, na: str) -> str:
    """The signed change ``current − previous`` in 3 decimals, or ``na`` when either is missing."""
    current, previous = finite(current), finite(previous)
    if current is None or previous is None:
        return na
    change = current - previous
    return f"{change:+.3f}" if finite(change) is not None else na


def theta_text(value: float | None, na: str) -> str:
    """θ with sign and 2 decimals (``+0.45``), or ``na``."""
    value = finite(value)
    return na if value is None else f"{value:+.2f}"


def se_text(value: float | None, na: str) -> str:
    """A standard error in 2 decimals, or ``na``."""
    value = finite(value)
    return na if value is None else f"{abs(value):.2f}"


def percent_text(value: float | None, na: str) -> str:
    """A share in [0, 1] as a whole percentage (``62%``), or ``na``."""
    value = finite(value)
    return na if value is None else f"{value:.0%}"


def date_text(value: dt.date | None, na: str) -> str:
    """An ISO date, or ``na``."""
    return na if value is None else value.isoformat()


def datetime_text(value: dt.datetime) -> str:
    """The generation time as ``YYYY-MM-DD HH:MM``, followed by the UTC offset when the time is aware."""
    return value.isoformat(sep=" ", timespec="minutes")
