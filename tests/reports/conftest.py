"""Shared fixtures for the report renderer tests: one renderer (fonts loaded once) per session."""

from __future__ import annotations

import pytest

from dreamseed.reports import ReportRenderer


@pytest.fixture(scope="session")
def renderer() -> ReportRenderer:
    """A warmed-up renderer using the system fonts (needs a Hangul font, e.g. fonts-nanum)."""
    renderer = ReportRenderer()
    renderer.warm_up()
    return renderer
