"""Fixtures of the mirt-calibrate tests: a synthetic platform loaded once per module, cloned per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, make_url
from tests.jobs.mirt_calibrate.calibration_data import clone, loaded_template, written_platform

from dreamseed.synth import SynthPlatform


@pytest.fixture(scope="module")
def synthetic(
    tmp_path_factory: pytest.TempPathFactory, admin_url: str, template_url: str
) -> Iterator[tuple[SynthPlatform, str]]:
    """The platform, and a template database holding it (loaded once per module)."""
    out = tmp_path_factory.mktemp("calibration-platform")
    platform = written_platform(out)
    with loaded_template(admin_url, str(make_url(template_url).database), out) as name:
        yield platform, name


@pytest.fixture
def database_url(admin_url: str, synthetic: tuple[SynthPlatform, str]) -> Iterator[str]:
    """Overrides the shared fixture: every test starts from a clone of the loaded platform."""
    with clone(admin_url, synthetic[1]) as url:
        yield url


@pytest.fixture
def platform(engine: Engine) -> Engine:
    return engine
