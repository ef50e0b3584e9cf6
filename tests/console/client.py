"""Signing in to a served console with httpx, as a browser form would."""

from __future__ import annotations

import re

import httpx
from tests.console.conftest import PASSWORDS


def login_form(client: httpx.Client) -> str:
    page = client.get("/console/login")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def sign_in(client: httpx.Client, user: str, password: str | None = None) -> httpx.Response:
    token = login_form(client)
    form = {"csrf": token, "user": user, "password": password or PASSWORDS[user], "next": "/console/"}
    return client.post("/console/login", data=form)


def session_csrf(client: httpx.Client) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/console/").text)
    assert found is not None
    return found.group(1)
