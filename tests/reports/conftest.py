"""Shared fixtures for the report renderer tests: one renderer (fonts loaded once) per session."""

from __future__ import annotations

import pytest

from dreamseed.reports import ReportRenderer


@pytest.fixture(scope="session")
def renderer() -> ReportRenderer:
    """A warmed-up renderer with the default fonts (the bundled Noto Sans KR)."""
    renderer = ReportRenderer()
    renderer.warm_up()
    return renderer
