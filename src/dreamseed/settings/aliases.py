"""How a settings field names its environment variables."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices


def env_alias(name: str, *legacy: str) -> Any:
    """Field alias: the original env var name first, then legacy names as fallbacks."""
    return AliasChoices(name, *legacy) if legacy else name
