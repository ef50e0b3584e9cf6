"""The console in a real browser (Debian's Chromium driven by Playwright): sign in, every page, a
filter, the at-risk list → student → report, charts drawn, no console errors, another org's student
refused. Screenshots of each page go to out/console-screenshots/ (or CONSOLE_SCREENSHOTS_DIR)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import sync_api
from tests.api.server import serving
from tests.console.conftest import PASSWORDS, Platform

from dreamseed.api.app import create_app

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(
    os.environ.get("CONSOLE_SCREENSHOTS_DIR", Path(__file__).parents[2] / "out" / "console-screenshots")
)


@pytest.fixture(scope="module")
def base_url(platform: Platform) -> Iterator[str]:
    with serving(create_app(platform.settings(), platform.engine)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run scripts/install-system-packages as root (Debian package chromium)"
        )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield launched
        launched.close()


class Session:
    """A signed-in page that records console errors and failed requests."""

    def __init__(self, browser: object, base_url: str, user: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        # The stored weekly reports declare no icon, so Chromium asks the server root for one.
        self.context.route("**/favicon.ico", lambda route: route.fulfill(status=204))
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "response", lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None
        )
        self.page.goto(f"{base_url}/console/")
        assert "/console/login" in self.page.url
        self.page.fill("input[name=user]", user)
        self.page.fill("input[name=password]", PASSWORDS[user])
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{base_url}/console/")

    def open(self, path: str) -> object:
        answer = self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("networkidle")
        return answer

    def charts_drawn(self) -> int:
        """How many chart images loaded with a non-empty picture (and that every one did)."""
        sizes = self.page.eval_on_selector_all(
            "img.chart", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])"
        )
        assert sizes, "no charts on the page"
        assert all(done and width > 100 and height > 50 for done, width, height in sizes), sizes
        return len(sizes)

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_admin_walks_through_every_page(browser: object, base_url: str) -> None:
    session = Session(browser, base_url, "admin")
    page = session.page
    session.open("/console/")
    assert session.charts_drawn() >= 14
    session.shot("overview")
    page.select_option("select[name=org]", "1")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "org=1" in page.url
    session.charts_drawn()
    session.shot("overview-org1")

    session.open("/console/at-risk")
    page.select_option("select[name=band]", "high")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "band=high" in page.url
    bands = page.eval_on_selector_all("td.band-high", "els => els.length")
    rows = page.eval_on_selector_all("tbody tr", "els => els.length")
    assert rows == bands
    session.open("/console/at-risk?sort=risk&order=desc")
    session.shot("at-risk")
    with_report = page.locator("tbody tr", has=page.locator("a.report")).first
    student = with_report.locator("a.student").inner_text()
    with_report.locator("a.student").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/console/students/{student}")
    assert session.charts_drawn() == 2
    session.shot("student")
    page.locator("a.report").first.click()
    page.wait_for_load_state("networkidle")
    assert "/reports/" in page.url
    assert page.locator("svg").count() > 0  # the stored weekly report, with its inline charts
    session.shot("student-report")

    session.open("/console/items?sort=misfit&order=desc")
    assert session.charts_drawn() == 1
    session.shot("item-bank")
    page.locator("a.item").first.click()
    page.wait_for_load_state("networkidle")
    assert session.charts_drawn() == 2
    session.shot("item")

    session.open("/console/health")
    assert session.charts_drawn() == 1
    session.shot("pipeline-health")

    session.open("/console/at-risk?lang=ko")
    assert "이탈 위험 학생" in page.content()
    session.shot("at-risk-ko")
    assert session.errors == []
    session.context.close()


def test_a_teacher_of_org_1_is_refused_a_student_of_org_2(browser: object, base_url: str) -> None:
    session = Session(browser, base_url, "kim")
    listed = session.page.eval_on_selector_all("a", "els => els.map(e => e.href)")
    assert listed
    session.open("/console/at-risk")
    users = session.page.eval_on_selector_all("a.student", "els => els.map(e => e.textContent)")
    assert users
    assert all(int(user.lstrip("u")) % 2 == 0 for user in users)
    answer = session.open("/console/students/u000001")
    assert answer.status in (403, 404)  # type: ignore[attr-defined]
    session.shot("teacher-refused")
    session.context.close()
