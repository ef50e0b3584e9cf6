"""The DIF section of a fit report: which test, which groups, which items were flagged, and a
per-item table; built from any of the three DIF results and rendered as JSON-ready data or text.

``fit_report(..., dif=dif_section(result, grouping="org_id"))`` puts ``section.as_dict()`` in
``FitReport.dif``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dreamseed.irt.dif import WaldDIF
from dreamseed.irt.dif_lr import LikelihoodRatioDIF
from dreamseed.irt.dif_mh import MantelHaenszelDIF
from dreamseed.irt.json_values import finite_json, python_scalar

DifResult = LikelihoodRatioDIF | MantelHaenszelDIF | WaldDIF


@dataclass(frozen=True)
class DifSection:
    """``method`` ("likelihood ratio", "Mantel-Haenszel" or "Wald"), ``grouping`` (the column the
    groups came from), ``groups`` (label → users, and for the likelihood ratio the group's mean
    and SD), the items tested and flagged (BH adjusted p < ``alpha``), the per-item ``rows`` and
    ``details`` (scheme, anchors, ETS class counts)."""

    method: str
    grouping: str
    alpha: float
    n_tested: int
    flagged: list[Any]
    rows: list[dict[str, Any]]
    groups: Mapping[str, Any] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(
            finite_json(
                {
                    "method": self.method,
                    "grouping": self.grouping,
                    "alpha": self.alpha,
                    "n_tested": self.n_tested,
                    "flagged": self.flagged,
                    "groups": dict(self.groups),
                    "details": dict(self.details),
                    "items": self.rows,
                }
            )
        )

    def text(self, limit: int = 20) -> str:
        """A few readable lines: the test, the groups, and the flagged items with their statistic."""
        lines = [
            f"DIF ({self.method}, groups by {self.grouping}): {len(self.flagged)} of {self.n_tested} items "
            f"flagged at Benjamini-Hochberg adjusted p < {self.alpha}"
        ]
        for label, about in self.groups.items():
            shape = f", mean {about['mean']:.3f}, sd {about['sd']:.3f}" if "mean" in about else ""
            lines.append(f"  group {label}: {about.get('n', '?')} users{shape}")
        by_item = {str(row["item_id"]): row for row in self.rows}
        for item in self.flagged[:limit]:
            row = by_item[str(item)]
            statistic = row.get("X2", row.get("W"))
            ets = f", MH D-DIF {row['mh_d_dif']:.2f} (ETS {row['ets_class']})" if "ets_class" in row else ""
            lines.append(f"  {item}: {statistic:.2f} (adjusted p {row['adj_p']:.3g}){ets}")
        if len(self.flagged) > limit:
            lines.append(f"  ... and {len(self.flagged) - limit} more")
        return "\n".join(lines)


def dif_section(result: DifResult, grouping: str = "group") -> DifSection:
    """The section for ``result`` (``lr_dif``/``purified_lr_dif``, ``mantel_haenszel`` or ``wald_dif``)."""
    flagged = [python_scalar(i) for i in result.flagged_items()]
    if isinstance(result, LikelihoodRatioDIF):
        base = result.baseline
        groups = {
            str(g): {"n": int(n), "mean": float(m), "sd": float(s)}
            for g, n, m, s in zip(base.groups.tolist(), base.n_persons, base.means, base.sds, strict=True)
        }
        details = {"scheme": result.scheme, "parameters": list(result.parameters), "rounds": result.rounds,
                   "anchors": [python_scalar(a) for a in result.anchors]}  # fmt: skip
        return DifSection("likelihood ratio", grouping, result.alpha, int(result.item_id.size), flagged,
                          result.rows(), groups, details)  # fmt: skip
    if isinstance(result, MantelHaenszelDIF):
        groups = {str(result.reference): {"n": int(result.n_reference[0]) if result.n_reference.size else 0},
                  str(result.focal): {"n": int(result.n_focal[0]) if result.n_focal.size else 0}}  # fmt: skip
        classes = {c: int((result.ets_class == c).sum()) for c in ("A", "B", "C")}
        details = {"reference": python_scalar(result.reference), "focal": python_scalar(result.focal),
                   "ets_classes": classes, "n_dropped": result.n_dropped}  # fmt: skip
        return DifSection("Mantel-Haenszel", grouping, result.alpha, int(result.item_id.size), flagged,
                          result.rows(), groups, details)  # fmt: skip
    rows = [
        {
            "item_id": python_scalar(i),
            "W": float(w),
            "df": result.df,
            "p": float(p),
            "adj_p": float(q),
            "flagged": bool(f),
        }
        for i, w, p, q, f in zip(
            result.item_id.tolist(),
            result.statistic,
            result.p_value,
            result.adjusted_p,
            result.flagged,
            strict=True,
        )
    ]
    return DifSection("Wald", grouping, result.alpha, len(rows), flagged, rows)


__all__ = ["DifResult", "DifSection", "dif_section"]
