"""Console users and their roles, from the `CONSOLE_USERS` setting; password hashes (scrypt).

`CONSOLE_USERS` is a JSON list of ``{"name", "role", "org_ids", "password_hash"}``; `dreamseed
console add-user` prints an updated list. Roles: ``admin`` sees every org; ``teacher`` sees only the
students of its ``org_ids``. A hash reads ``scrypt$n$r$p$salt_hex$key_hex`` (hashlib.scrypt).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["admin", "teacher"]
ROLES: tuple[Role, ...] = ("admin", "teacher")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


class UsersError(ValueError):
    """CONSOLE_USERS does not parse or holds an invalid user."""


@dataclass(frozen=True)
class ConsoleUser:
    name: str
    role: Role
    org_ids: frozenset[int]
    password_hash: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "org_ids": sorted(self.org_ids),
            "password_hash": self.password_hash,
        }


@dataclass(frozen=True)
class Viewer:
    """Who is looking: ``orgs`` is None for an admin (every org), else the teacher's org ids."""

    name: str
    role: Role
    orgs: frozenset[int] | None

    def sees_org(self, org_id: int | None) -> bool:
        return self.orgs is None or (org_id is not None and org_id in self.orgs)


def viewer_of(user: ConsoleUser) -> Viewer:
    return Viewer(user.name, user.role, None if user.role == "admin" else user.org_ids)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A scrypt hash of ``password`` with a random salt, in the CONSOLE_USERS form."""
    salt = salt or secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${key.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time); False for a malformed hash."""
    try:
        scheme, n, r, p, salt_hex, key_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        key = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(key.hex(), key_hex)


def parse_users(text: str) -> dict[str, ConsoleUser]:
    """The users of a CONSOLE_USERS value ("" = none), by name."""
    if not text.strip():
        return {}
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsersError(f"CONSOLE_USERS is not valid JSON: {error}") from error
    if not isinstance(entries, list):
        raise UsersError("CONSOLE_USERS must be a JSON list of users")
    users = [_user(entry) for entry in entries]
    return {user.name: user for user in users}


def _user(entry: Any) -> ConsoleUser:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise UsersError(f"CONSOLE_USERS: each user needs a name: {entry!r}")
    role = entry.get("role")
    if role not in ROLES:
        raise UsersError(f"CONSOLE_USERS: user {entry['name']!r} has role {role!r} (admin or teacher)")
    orgs = entry.get("org_ids", [])
    if not isinstance(orgs, list) or not all(isinstance(o, int) and not isinstance(o, bool) for o in orgs):
        raise UsersError(f"CONSOLE_USERS: user {entry['name']!r}: org_ids must be a list of integers")
    if role == "teacher" and not orgs:
        raise UsersError(f"CONSOLE_USERS: teacher {entry['name']!r} needs at least one org id")
    return ConsoleUser(entry["name"], role, frozenset(orgs), str(entry.get("password_hash", "")))


def users_json(users: dict[str, ConsoleUser]) -> str:
    """The CONSOLE_USERS value holding ``users``."""
    return json.dumps([user.as_json() for user in users.values()], ensure_ascii=False)
