"""A record that was not loaded (the one shape every check and loader reports rejections in)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rejected:
    """A record that was not loaded: where it was, why, and its raw text."""

    line_no: int
    reason: str
    raw: str
    session_id: str | None = None
    question_index: int | None = None
