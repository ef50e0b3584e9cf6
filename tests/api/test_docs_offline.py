"""#15: /docs and /redoc work offline: every asset they load comes from this server, none from a CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from tests.api.server import serving

from dreamseed.api.app import create_app
from dreamseed.settings import Settings


@pytest.fixture
def base_url(settings: Settings, engine: Engine) -> Iterator[str]:
    with serving(create_app(settings, engine)) as url:
        yield url


@pytest.mark.parametrize(("page", "scripts"), [("/docs", 1), ("/redoc", 1)])
def test_docs_pages_load_their_assets_from_this_server(base_url: str, page: str, scripts: int) -> None:
    html = httpx.get(base_url + page)
    assert html.status_code == 200
    assert not re.search(r"""(src|href)=["']https?://""", html.text)
    assert "fonts.googleapis" not in html.text
    assets = re.findall(r"""(?:src|href)=["'](/[^"']+)["']""", html.text)
    assert len([a for a in assets if a.endswith(".js")]) == scripts
    for asset in assets:
        answer = httpx.get(base_url + asset)
        assert answer.status_code == 200, asset
        assert len(answer.content) > 1000, asset
    if page == "/docs":
        assert any(a.endswith(".css") for a in assets)
        assert "url: '/openapi.json'" in html.text
