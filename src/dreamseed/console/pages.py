"""The console's HTML pages under /console/ (server-rendered, no JavaScript) and its sign-in flow."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from dreamseed.console import charts, exports, reports, views
from dreamseed.console.access import (
    SignInRequired,
    allowed_org,
    engine_of,
    page_viewer,
    require_admin,
    session_of,
    state_of,
    viewer_or_none,
)
from dreamseed.console.rendering import link, page
from dreamseed.console.sessions import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from dreamseed.console.users import Viewer, verify_password


class ConsolePageRoute(APIRoute):
    """Console pages answer HTML: sign-in redirects, and 403/404/422 as a page rather than JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(link("/console/login", next=target), status_code=303)
            except HTTPException as error:
                shown = console_error_page(request, error.status_code)
                if shown is None:
                    raise
                return shown

        return handle


router = APIRouter(prefix="/console", include_in_schema=False, route_class=ConsolePageRoute)
PageViewer = Annotated[Viewer, Depends(page_viewer)]
MAX_FORM_BYTES = 4096


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, "form too large")
    parsed = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=10)
    return {key: values[0] for key, values in parsed.items()}


def _safe_next(target: str | None) -> str:
    return (
        target if target and target.startswith("/console/") and not target.startswith("//") else "/console/"
    )


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    response = page(request, "login.j2", None, csrf=token, next=_safe_next(next), error=None)
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    state = state_of(request)
    form = await _form(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, form.get("csrf", "")):
        raise HTTPException(403, "the sign-in form expired; reload it")
    name, password = form.get("user", "").strip(), form.get("password", "")
    keys = [f"ip:{request.client.host if request.client else '-'}", f"user:{name}"]
    next_page = _safe_next(form.get("next"))
    if state.limiter.blocked(keys):
        return page(request, "login.j2", None, 429, csrf=cookie, next=next_page, error="too_many")
    user = state.users.get(name)
    ok = await run_in_threadpool(verify_password, password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not ok:
        state.limiter.failed(keys)
        return page(request, "login.j2", None, 401, csrf=cookie, next=next_page, error="bad_login")
    response = RedirectResponse(next_page, status_code=303)
    _set_cookie(
        request, response, SESSION_COOKIE, state.signer.issue(name), max_age=int(state.signer.max_age_secs)
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = session_of(request)
    form = await _form(request)
    if session is not None and not state_of(request).signer.csrf_ok(session, form.get("csrf", "")):
        raise HTTPException(403, "invalid CSRF token")
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    secure = request.url.scheme == "https"
    response.set_cookie(
        name, value, max_age=max_age, path="/console", httponly=True, samesite="lax", secure=secure
    )


def _csrf(request: Request) -> str:
    session = session_of(request)
    return state_of(request).signer.csrf_token(session) if session is not None else ""


def _read(request: Request, read: Any, *args: Any) -> Any:
    with engine_of(request).connect() as connection:
        return read(connection, *args)


def _int_or_none(text: str | None) -> int | None:
    if text is None or text == "" or text == "*":
        return None
    try:
        return int(text)
    except ValueError as error:
        raise HTTPException(422, "org must be an integer") from error


@router.get("/")
async def overview(
    request: Request, viewer: PageViewer, org: str | None = None, goal: str | None = None
) -> Response:
    org_id = _int_or_none(org)
    allowed_org(viewer, org_id)
    data = await run_in_threadpool(_read, request, views.cohort, viewer, org_id, goal)
    params = {"org": data["org"] if data["org"] != "*" else None, "goal": goal}
    return page(request, "overview.j2", viewer, data=data, params=params, csrf=_csrf(request))


@router.get("/at-risk")
async def at_risk_page(
    request: Request,
    viewer: PageViewer,
    org: str | None = None,
    goal: str | None = None,
    band: str | None = None,
    sort: str = "risk",
    order: str = "desc",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    org_id = _int_or_none(org)
    allowed_org(viewer, org_id)
    where = views.student_filter(viewer, org_id, goal, band)
    data = await run_in_threadpool(
        _read, request, views.at_risk, viewer, where, sort, order != "asc", page_number
    )
    params = {"org": org_id, "goal": goal, "band": band, "sort": sort, "order": order}
    choices = await run_in_threadpool(_read, request, views.cohort, viewer, org_id, None)
    return page(request, "at_risk.j2", viewer, data=data, params=params, choices=choices, csrf=_csrf(request))


@router.get("/at-risk.csv")
async def at_risk_csv(
    request: Request,
    viewer: PageViewer,
    org: str | None = None,
    goal: str | None = None,
    band: str | None = None,
    sort: str = "risk",
    order: str = "desc",
    limit: Annotated[int, Query(ge=1, le=views.CSV_MAX_ROWS)] = 10_000,
) -> Response:
    org_id = _int_or_none(org)
    allowed_org(viewer, org_id)
    where = views.student_filter(viewer, org_id, goal, band)
    body = await run_in_threadpool(_read, request, exports.at_risk_csv, where, sort, order != "asc", limit)
    headers = {"Content-Disposition": 'attachment; filename="at-risk.csv"', "Cache-Control": "no-store"}
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/students/{user_id}")
async def student_page(request: Request, viewer: PageViewer, user_id: str) -> Response:
    data = await run_in_threadpool(_read, request, views.student, viewer, user_id)
    return page(request, "student.j2", viewer, data=data, csrf=_csrf(request))


@router.get("/students/{user_id}/reports/{week_start}.{report_format}")
async def student_report(
    request: Request, viewer: PageViewer, user_id: str, week_start: str, report_format: str
) -> Response:
    await run_in_threadpool(_read, request, views.visible_student, viewer, user_id)
    return await run_in_threadpool(_read, request, reports.report_response, state_of(request).settings,
                                   user_id, week_start, report_format)  # fmt: skip


@router.get("/items")
async def items_page(
    request: Request,
    viewer: PageViewer,
    topic: str | None = None,
    flag: str | None = None,
    sort: str = "misfit",
    order: str = "desc",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    data = await run_in_threadpool(
        _read, request, views.items, topic, flag, sort, order != "asc", page_number
    )
    params = {"topic": topic, "flag": flag, "sort": sort, "order": order}
    return page(request, "items.j2", viewer, data=data, params=params, csrf=_csrf(request))


@router.get("/items/{item_id}")
async def item_page(request: Request, viewer: PageViewer, item_id: str) -> Response:
    data = await run_in_threadpool(_read, request, views.item, item_id)
    return page(request, "item.j2", viewer, data=data, csrf=_csrf(request))


@router.get("/health")
async def health_page(request: Request, viewer: PageViewer) -> Response:
    require_admin(viewer)
    data = await run_in_threadpool(_read, request, views.health)
    return page(request, "health.j2", viewer, data=data, csrf=_csrf(request))


@router.get("/static/NotoSansKR-Regular.otf")
async def font() -> Response:
    return FileResponse(
        Path(charts.FONT_FILE), media_type="font/otf", headers={"Cache-Control": "public, max-age=604800"}
    )


def console_error_page(request: Request, status_code: int) -> Response | None:
    """The HTML error page for a console page's 403/404 (None for other paths and the JSON API)."""
    path = request.url.path
    if not path.startswith("/console/") or path.startswith("/console/api/"):
        return None
    key = {403: "forbidden", 404: "not_found", 422: "not_found"}.get(status_code)
    if key is None:
        return None
    return page(request, "error.j2", viewer_or_none(request), status_code, message=key, csrf=_csrf(request))


_DUMMY_HASH = "scrypt$16384$8$1$00$00"  # verified against when the user does not exist (same cost)
