"""`dreamseed console`: console users (CONSOLE_USERS) for the pages served by `dreamseed serve`."""

from __future__ import annotations

import os
import sys

import click

from dreamseed.console.users import ROLES, ConsoleUser, UsersError, hash_password, parse_users, users_json


@click.group()
def console() -> None:
    """The console at /console/ of `dreamseed serve`: its users and roles."""


@console.command("add-user")
@click.argument("name")
@click.option(
    "--role", type=click.Choice(ROLES), required=True, help="admin: every org; teacher: --org only."
)
@click.option("--org", "orgs", type=int, multiple=True, help="An org_id a teacher may see (repeat for more).")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (else it is asked for)."
)
@click.option(
    "--users",
    "current",
    default=None,
    help="The CONSOLE_USERS value to add to [default: the CONSOLE_USERS environment variable].",
)
def add_user(name: str, role: str, orgs: tuple[int, ...], password_stdin: bool, current: str | None) -> None:
    """Print CONSOLE_USERS with NAME added (or replaced), its password hashed with scrypt.

    Example: export CONSOLE_USERS="$(dreamseed console add-user kim --role teacher --org 1)"
    """
    if role == "teacher" and not orgs:
        raise click.UsageError("a teacher needs at least one --org")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    if len(password) < 8:
        raise click.UsageError("the password needs at least 8 characters")
    try:
        users = parse_users(os.environ.get("CONSOLE_USERS", "") if current is None else current)
    except UsersError as error:
        raise click.ClickException(str(error)) from error
    replaced = name in users
    users[name] = ConsoleUser(name, role, frozenset(orgs), hash_password(password))  # type: ignore[arg-type]
    click.echo(users_json(users))
    click.echo(
        f"{'replaced' if replaced else 'added'} {role} {name}; set CONSOLE_USERS to the line above", err=True
    )
