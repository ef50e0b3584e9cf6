"""`dreamseed serve`: the HTTP service (IRT calibrate/score, online θ update, health, metrics)."""

from __future__ import annotations

import errno
import socket

import click

from dreamseed.cli.context import UserError, database, friendly_errors, load_settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0: all).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    help="uvicorn's log level (access lines at info).",
)
@friendly_errors
def serve(host: str, port: int, log_level: str) -> None:
    """Serve the HTTP API with uvicorn until interrupted.

    Endpoints: POST /irt/calibrate and /irt/score (the original R Plumber contract),
    POST /api/seedtest/analysis/irt/update-theta (online θ update), GET /healthz and /health,
    GET /metrics (Prometheus), and the OpenAPI docs at /docs. When R_IRT_INTERNAL_TOKEN is set,
    every endpoint but the health checks and docs needs `Authorization: Bearer <token>`.
    Applies pending database migrations first (embedded PostgreSQL when DATABASE_URL is unset).
    One process; scale out with more replicas (each keeps its own item cache and connection pool).
    """
    import uvicorn

    from dreamseed.api.app import create_app

    settings = load_settings()
    _check_can_listen(host, port)
    with database(settings) as engine:
        click.echo(f"dreamseed serve: http://{host}:{port} (docs at /docs)", err=True)
        uvicorn.run(create_app(settings, engine), host=host, port=port, log_level=log_level)


def _check_can_listen(host: str, port: int) -> None:
    """A UserError, before anything starts, when (host, port) cannot be bound (in use, or no such address)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise UserError(
            f"cannot listen on --host {host}: {error.strerror}; give an address of this machine"
        ) from None
    family, kind, protocol, _, address = infos[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise UserError(
                    f"port {port} on {host} is already in use by another process; stop it or choose another "
                    "port with --port"
                ) from None
            raise UserError(
                f"cannot listen on {host}:{port}: {error.strerror}; check --host and --port"
            ) from None
