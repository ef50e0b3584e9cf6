"""Who is signed in: the console's state (users, cookie signer, login limiter) and the checks.

A request's viewer comes from, in order: the trusted proxy header (only when
CONSOLE_TRUSTED_USER_HEADER is set), the signed session cookie, or, for the JSON API only, the
service's bearer token (R_IRT_INTERNAL_TOKEN, as an admin). Roles and orgs are always read from the
current CONSOLE_USERS, so a removed user is signed out at once.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request
from sqlalchemy import Engine

from dreamseed.console.ratelimit import LoginLimiter
from dreamseed.console.sessions import SESSION_COOKIE, Session, SessionSigner
from dreamseed.console.users import ConsoleUser, Viewer, parse_users, viewer_of
from dreamseed.settings import Settings

LOGIN_WINDOW_SECS = 300.0


class SignInRequired(Exception):
    """A page needs a signed-in viewer: the handler redirects to the sign-in page."""


@dataclass
class ConsoleState:
    settings: Settings
    users: dict[str, ConsoleUser]
    signer: SessionSigner
    limiter: LoginLimiter
    trusted_header: str
    api_token: str | None


def console_state(settings: Settings) -> ConsoleState:
    """The console's state from the settings (CONSOLE_USERS is parsed now: a bad value fails early)."""
    users_text = settings.console_users.get_secret_value() if settings.console_users else ""
    key = settings.console_secret_key.get_secret_value() if settings.console_secret_key else ""
    token = settings.r_irt_internal_token.get_secret_value() if settings.r_irt_internal_token else ""
    return ConsoleState(
        settings=settings,
        users=parse_users(users_text),
        signer=SessionSigner(key.encode() or secrets.token_bytes(32), settings.console_session_hours * 3600),
        limiter=LoginLimiter(settings.console_login_max_failures, LOGIN_WINDOW_SECS),
        trusted_header=settings.console_trusted_user_header.strip(),
        api_token=token or None,
    )


def state_of(request: Request) -> ConsoleState:
    state = getattr(request.app.state, "console", None)
    assert isinstance(state, ConsoleState), "add_console() was not called"
    return state


def engine_of(request: Request) -> Engine:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise HTTPException(503, "the service is starting")
    engine = service.engine
    assert isinstance(engine, Engine)
    return engine


def session_of(request: Request) -> Session | None:
    return state_of(request).signer.read(request.cookies.get(SESSION_COOKIE))


def viewer_or_none(request: Request, *, allow_token: bool = False) -> Viewer | None:
    state = state_of(request)
    if state.trusted_header:
        name = request.headers.get(state.trusted_header, "").strip()
        if name:
            user = state.users.get(name)
            return viewer_of(user) if user is not None else None
    session = session_of(request)
    if session is not None:
        user = state.users.get(session.user)
        if user is not None:
            return viewer_of(user)
    if allow_token and state.api_token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), state.api_token.encode()
        ):
            return Viewer("api-token", "admin", None)
    return None


async def page_viewer(request: Request) -> Viewer:
    """The signed-in viewer of a page; unsigned requests are sent to the sign-in page."""
    viewer = viewer_or_none(request)
    if viewer is None:
        raise SignInRequired()
    return viewer


async def api_viewer(request: Request) -> Viewer:
    """The viewer of a JSON API call: 401 without a session, proxy header or bearer token."""
    viewer = viewer_or_none(request, allow_token=True)
    if viewer is None:
        raise HTTPException(
            401, "sign in to the console or send the API bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    return viewer


def require_admin(viewer: Viewer) -> None:
    if viewer.role != "admin":
        raise HTTPException(403, "admins only")


def allowed_org(viewer: Viewer, org: int | None) -> None:
    """403 when a teacher filters on an org that is not theirs."""
    if org is not None and not viewer.sees_org(org):
        raise HTTPException(403, "not your org")
