"""One small synthetic platform, generated and written once for the synth tests."""

from __future__ import annotations

import pytest
from tests.synth.platform_files import SMALL, Written, read_written

from dreamseed.synth import generate_platform, write_platform


@pytest.fixture(scope="session")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    platform = generate_platform(SMALL)
    out = tmp_path_factory.mktemp("synth")
    write_platform(platform, out)
    return read_written(platform, out)
