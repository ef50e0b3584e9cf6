"""Signed session cookies and CSRF tokens (HMAC-SHA256 from the standard library).

A session cookie is ``base64(json{"u": name, "t": issued, "n": nonce}).signature``; it is checked for
its signature and age on every request, and the user's role and orgs are looked up in the current
CONSOLE_USERS each time (removing a user ends their sessions). The CSRF token of a session is an
HMAC of its nonce; the login form uses a double-submit cookie instead (no session yet).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

SESSION_COOKIE = "dreamseed_console"
LOGIN_CSRF_COOKIE = "dreamseed_console_csrf"


@dataclass(frozen=True)
class Session:
    user: str
    issued: float
    nonce: str


class SessionSigner:
    def __init__(self, secret: bytes, max_age_secs: float) -> None:
        self._secret = secret
        self.max_age_secs = max_age_secs

    def _sign(self, payload: bytes) -> str:
        digest = hmac.new(self._secret, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, user: str, now: float | None = None) -> str:
        body = json.dumps({"u": user, "t": now or time.time(), "n": secrets.token_urlsafe(16)}).encode()
        payload = base64.urlsafe_b64encode(body).decode().rstrip("=")
        return f"{payload}.{self._sign(payload.encode())}"

    def read(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session of a cookie; None when missing, tampered with or expired."""
        if not cookie or "." not in cookie:
            return None
        payload, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(self._sign(payload.encode()), signature):
            return None
        try:
            body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            session = Session(str(body["u"]), float(body["t"]), str(body["n"]))
        except (ValueError, KeyError, TypeError):
            return None
        age = (now or time.time()) - session.issued
        return session if 0 <= age <= self.max_age_secs else None

    def csrf_token(self, session: Session) -> str:
        return self._sign(f"csrf:{session.nonce}".encode())

    def csrf_ok(self, session: Session, token: str) -> bool:
        return hmac.compare_digest(self.csrf_token(session), token)
