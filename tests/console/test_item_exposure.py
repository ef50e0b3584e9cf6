"""The item bank pages show each item's exposure rate: the share of the adaptive sessions of the
last 28 days (cat_events) that served it, after real sessions through next-item; in Chromium and
in the console's JSON API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text
from tests.api.server import serving
from tests.console.client import sign_in
from tests.console.conftest import Platform
from tests.console.test_browser import Session, browser  # noqa: F401 - the module's Chromium fixture

from dreamseed.api.app import create_app
from dreamseed.console import exposure

pytestmark = pytest.mark.slow
NEXT = "/api/seedtest/analysis/irt/next-item"
ANSWER = "/api/seedtest/analysis/irt/answer"
SESSIONS = 4


@pytest.fixture(scope="module")
def base_url(platform: Platform) -> Iterator[str]:
    with serving(create_app(platform.settings(), platform.engine)) as url:
        yield url


@pytest.fixture(scope="module")
def served(platform: Platform, base_url: str) -> dict[str, int]:
    """Four adaptive sessions of 3 items (four students), through the real endpoints; item id →
    sessions that served it (all of cat_events in the window, whatever else the DB holds)."""
    with platform.engine.connect() as connection:
        query = text("SELECT user_id FROM mirt_ability ORDER BY user_id LIMIT 4")
        users = list(connection.execute(query).scalars())
    with httpx.Client(base_url=base_url) as client:
        for k, user in enumerate(users):
            body = {"user_id": user, "session_id": f"exposure-{k}", "policy": "practice", "max_items": 3}
            while not (step := client.post(NEXT, json=body).json())["stop"]:
                answer = {
                    "user_id": user,
                    "session_id": body["session_id"],
                    "item_id": step["item_id"],
                    "correct": k % 2 == 0,
                }
                assert client.post(ANSWER, json=answer).status_code == 200
    with platform.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT item_id, count(*) FROM cat_events WHERE served_at > now() - interval '28 days' GROUP BY item_id"
            )
        ).all()
        total = connection.execute(
            text(
                "SELECT count(DISTINCT (user_id, session_id)) FROM cat_events WHERE served_at > now() - interval '28 days'"
            )
        ).scalar_one()
    assert total == SESSIONS
    exposure.clear()  # the console recomputes the rates at most every 5 minutes
    return {str(item): int(n) for item, n in rows}


def test_the_json_api_gives_each_items_exposure(
    platform: Platform, base_url: str, served: dict[str, int]
) -> None:
    with httpx.Client(base_url=base_url) as admin:
        sign_in(admin, "admin")
        listing = admin.get("/console/api/v1/items", params={"page": 1}).json()
        assert (listing["exposure"]["days"], listing["exposure"]["sessions"]) == (28, SESSIONS)
        for item in listing["items"]:
            assert item["exposure_sessions"] == served.get(item["item_id"], 0)
            assert item["exposure_rate"] == pytest.approx(served.get(item["item_id"], 0) / SESSIONS)
        most = max(served, key=lambda i: (served[i], i))
        one = admin.get(f"/console/api/v1/items/{most}").json()
        assert (one["item"]["exposure_sessions"], one["exposure"]["sessions"]) == (served[most], SESSIONS)


def test_the_item_bank_pages_show_exposure_in_chromium(
    browser: object,  # noqa: F811 - the fixture imported above
    base_url: str,
    served: dict[str, int],
) -> None:
    session = Session(browser, base_url, "admin")
    page = session.page
    session.open("/console/items?sort=item&order=asc")
    assert "Exposure" in page.locator("thead").inner_text()
    note = page.locator("p.exposure-note").inner_text()
    assert f"the {SESSIONS} adaptive sessions of the last 28 days" in note
    rows = page.eval_on_selector_all(
        "tbody tr",
        "rows => rows.map(r => [r.querySelector('a.item').textContent, r.querySelector('td.exposure').textContent])",
    )
    assert rows
    for item, shown in rows:
        assert shown == f"{100 * served.get(item, 0) / SESSIONS:.0f}%"
    most = max(served, key=lambda i: (served[i], i))
    session.open(f"/console/items/{most}")
    card = page.locator("div.card.exposure").inner_text()
    assert f"{100 * served[most] / SESSIONS:.0f}%" in card
    assert f"{served[most]} / {SESSIONS}" in card
    session.shot("item-exposure")
    session.open(f"/console/items/{most}?lang=ko")
    assert "노출률" in page.locator("div.card.exposure").inner_text()
    assert session.errors == []
    session.context.close()
