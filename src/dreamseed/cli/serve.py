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
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="uvicorn worker processes sharing one listening socket (each its own item cache and pool).",
)
@friendly_errors
def serve(host: str, port: int, log_level: str, workers: int) -> None:
    """Serve the HTTP API with uvicorn until interrupted.

    Endpoints: POST /irt/calibrate and /irt/score (the original R Plumber contract),
    POST /api/seedtest/analysis/irt/update-theta (online θ update), GET /healthz and /health,
    GET /metrics (Prometheus), and the OpenAPI docs at /docs. When R_IRT_INTERNAL_TOKEN is set,
    every endpoint but the health checks and docs needs `Authorization: Bearer <token>`.
    Applies pending database migrations first (embedded PostgreSQL when DATABASE_URL is unset).
    --workers N runs N processes on one socket (each keeps its own item cache and connection pool);
    scale out further with more replicas.
    """
    import uvicorn

    from dreamseed.api.app import create_app

    settings = load_settings()
    _check_can_listen(host, port)
    with database(settings) as engine:
        click.echo(f"dreamseed serve: http://{host}:{port} (docs at /docs)", err=True)
        if workers == 1:
            uvicorn.run(create_app(settings, engine), host=host, port=port, log_level=log_level)
        else:
            _run_workers(engine.url.render_as_string(hide_password=False), host, port, log_level, workers)


def _run_workers(database_url: str, host: str, port: int, log_level: str, workers: int) -> None:
    """uvicorn's supervisor over ``workers`` processes, each building the app (and its engine) itself.

    The socket is made here with IPPROTO_TCP: uvicorn's own (protocol 0) never gets TCP_NODELAY from
    asyncio, and every response would then wait ~40 ms for a delayed ACK.
    """
    import os

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ["DATABASE_URL"] = database_url  # the workers' Settings(): the server migrated above
    config = uvicorn.Config(
        "dreamseed.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level=log_level,
        workers=workers,
    )
    Multiprocess(config, sockets=[_tcp_socket(host, port)]).run()


def _tcp_socket(host: str, port: int) -> socket.socket:
    family, kind, _, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE
    )[0]
    listener = socket.socket(family, kind, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(address)
    listener.set_inheritable(True)
    return listener


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
