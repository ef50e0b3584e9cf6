"""#15: /docs and /redoc work offline: every asset they load comes from this server, none from a CDN."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright import sync_api
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


@pytest.mark.slow
def test_the_docs_pages_show_content_in_chromium_with_no_outside_request(base_url: str) -> None:
    """In Debian's Chromium (Playwright): Swagger UI lists the operations, ReDoc renders, and every
    request the pages make goes to this server."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail(f"no Chromium at {chromium}: run scripts/install-system-packages as root")
    shots = Path(__file__).parents[2] / "out" / "docs-screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        page = browser.new_page()
        outside: list[str] = []
        errors: list[str] = []
        local = (base_url, "blob:", "data:")  # blob: and data: are made in the page itself
        page.on("request", lambda r: None if r.url.startswith(local) else outside.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(base_url + "/docs")
        page.wait_for_selector(".opblock", timeout=30_000)
        assert page.locator(".opblock").count() >= 5
        page.screenshot(path=str(shots / "docs.png"), full_page=False)
        page.goto(base_url + "/redoc")
        page.wait_for_selector("[data-section-id]", timeout=30_000)
        page.screenshot(path=str(shots / "redoc.png"), full_page=False)
        browser.close()
    assert outside == []
    assert errors == []
