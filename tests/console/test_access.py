"""Nobody sees students without signing in; a teacher sees only their orgs: pages, filters, CSV,
charts, reports and the JSON API, including guessed URLs. Cookies, CSRF, rate limit, bearer token."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from tests.api.server import serving
from tests.console.client import session_csrf, sign_in
from tests.console.conftest import API_TOKEN, Platform, org_of

from dreamseed.api.app import create_app


@pytest.fixture(scope="module")
def base_url(platform: Platform) -> Iterator[str]:
    app = create_app(platform.settings(r_irt_internal_token=API_TOKEN), platform.engine)
    with serving(app) as url:
        yield url


@contextmanager
def _client(base_url: str, user: str | None = None) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as client:
        if user is not None:
            assert sign_in(client, user).status_code == 303
        yield client


def _students(client: httpx.Client, **params: str | int) -> list[dict[str, object]]:
    answer = client.get("/console/api/v1/at-risk", params={"per_page": 1000, **params})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["students"])


def _one_of_org(client: httpx.Client, org: int) -> str:
    return next(str(s["user_id"]) for s in _students(client) if s["org_id"] == org and s["report_week"])


def test_signed_out_requests_go_to_sign_in_or_get_401(base_url: str) -> None:
    with _client(base_url) as client:
        page = client.get("/console/at-risk?org=1")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/console/login?next=")
        for path in ("/console/api/v1/at-risk", "/console/api/v1/students/u000001", "/console/api/v1/me"):
            assert client.get(path).status_code == 401
        assert client.get("/console/at-risk.csv").status_code == 303
        assert client.get("/console/charts/students/u000002/theta.svg").status_code == 303


def test_session_cookie_flags_and_tampering(base_url: str) -> None:
    with _client(base_url) as client:
        answer = sign_in(client, "kim")
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie.replace("Lax", "lax")
        assert "Secure" not in cookie  # plain http here; https sets Secure
        assert client.get("/console/").status_code == 200
        value = client.cookies["dreamseed_console"]
        client.cookies.set("dreamseed_console", value[:-2] + "xx", path="/console")
        assert client.get("/console/").status_code == 303


def test_wrong_password_then_rate_limit(platform: Platform) -> None:
    # A server of its own: the limit also counts per client address, which all these tests share.
    with serving(create_app(platform.settings(), platform.engine)) as url, _client(url) as client:
        assert sign_in(client, "lee", "wrong-password").status_code == 401
        codes = [sign_in(client, "lee", "wrong-password").status_code for _ in range(5)]
        assert codes[-1] == 429
        assert sign_in(client, "lee").status_code == 429  # even the right password, for a while


def test_login_form_needs_its_csrf_token(base_url: str) -> None:
    with _client(base_url) as client:
        form = {"csrf": "forged", "user": "admin", "password": "admin-pass-1"}
        assert client.post("/console/login", data=form).status_code == 403


def test_logout_needs_the_session_csrf_token_and_ends_the_session(base_url: str) -> None:
    with _client(base_url, "admin") as client:
        assert client.post("/console/logout", data={"csrf": "forged"}).status_code == 403
        assert client.get("/console/").status_code == 200
        answer = client.post("/console/logout", data={"csrf": session_csrf(client)})
        assert answer.status_code == 303
        assert client.get("/console/").status_code == 303


def test_teacher_never_sees_another_orgs_students(base_url: str) -> None:
    with _client(base_url, "admin") as admin:
        other = _one_of_org(admin, 2)
        week = next(s["report_week"] for s in _students(admin) if s["user_id"] == other)
        assert {s["org_id"] for s in _students(admin)} == {1, 2}
    with _client(base_url, "kim") as kim:
        listed = _students(kim)
        assert listed
        assert {s["org_id"] for s in listed} == {1}
        assert all(org_of(str(s["user_id"])) == 1 for s in listed)
        page = kim.get("/console/at-risk")
        assert other not in page.text
        assert page.status_code == 200
        csv = kim.get("/console/at-risk.csv").text
        assert other not in csv
        assert csv.count("\n") == len(listed) + 1
        for path in (
            "/console/at-risk?org=2",
            "/console/at-risk.csv?org=2",
            "/console/?org=2",
            "/console/api/v1/at-risk?org=2",
            "/console/api/v1/cohort?org=2",
            "/console/charts/cohort/S/distribution.svg?org=2",
            "/console/health",
            "/console/api/v1/pipeline",
        ):
            assert kim.get(path).status_code == 403, path
        for path in (
            f"/console/students/{other}",
            f"/console/api/v1/students/{other}",
            f"/console/charts/students/{other}/theta.svg",
            f"/console/charts/students/{other}/kpis.svg",
            f"/console/students/{other}/reports/{week}.html",
            f"/console/students/{other}/reports/{week}.pdf",
            "/console/students/no-such-student",
        ):
            assert kim.get(path).status_code == 404, path
        own = _one_of_org(kim, 1)
        assert kim.get(f"/console/students/{own}").status_code == 200
        assert kim.get(f"/console/api/v1/students/{own}").json()["student"]["org_id"] == 1


def test_the_bearer_token_opens_the_json_api_but_a_console_session_not_the_service(base_url: str) -> None:
    with _client(base_url) as client:
        headers = {"Authorization": f"Bearer {API_TOKEN}"}
        assert client.get("/console/api/v1/me", headers=headers).json()["role"] == "admin"
        assert (
            client.get("/console/api/v1/at-risk", headers={"Authorization": "Bearer wrong"}).status_code
            == 401
        )
    with _client(base_url, "admin") as admin:
        assert admin.post("/irt/score", json={}).status_code == 401
        assert admin.get("/console/api/v1/me").json() == {"name": "admin", "role": "admin", "org_ids": None}


def test_json_api_is_in_the_openapi_schema(base_url: str) -> None:
    with _client(base_url) as client:
        paths = client.get("/openapi.json").json()["paths"]
    for path in ("at-risk", "students/{user_id}", "cohort", "items", "items/{item_id}", "pipeline", "me"):
        assert f"/console/api/v1/{path}" in paths
    assert not any(path.startswith("/console/") and "/api/" not in path for path in paths)


def test_pages_answer_for_each_role(base_url: str) -> None:
    with _client(base_url, "admin") as admin:
        item = admin.get("/console/api/v1/items").json()["items"][0]["item_id"]
        for path in (
            "/console/",
            "/console/at-risk",
            "/console/items",
            f"/console/items/{item}",
            "/console/health",
        ):
            answer = admin.get(path, params={"lang": "ko"})
            assert answer.status_code == 200, path
            assert "script" not in answer.text.lower()
            assert answer.headers["content-security-policy"].startswith("default-src 'self'")
        assert "이탈 위험 학생" in admin.get("/console/at-risk").text  # the language cookie stays
        assert (
            admin.get(f"/console/charts/items/{item}/curves.svg").headers["content-type"] == "image/svg+xml"
        )
