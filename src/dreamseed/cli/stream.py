"""`dreamseed stream`: exam results through NATS JetStream (run a local broker, define the stream,
publish a file's sessions, consume them into the database, show the lag)."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from nats.aio.client import Client
from nats.js.api import StreamInfo
from nats.js.errors import NotFoundError
from sqlalchemy import Engine, text

from dreamseed.cli.context import UserError, database, load_settings
from dreamseed.settings import Settings
from dreamseed.stream.landing import BatchLander
from dreamseed.stream.metrics import StreamMetrics
from dreamseed.stream.nats_source import NatsSource, NatsUnreachable, StreamLayout, connect, ensure_stream
from dreamseed.stream.publisher import Published, file_events, publish_events
from dreamseed.stream.source import Lag
from dreamseed.stream.worker import BatchLimits, Totals
from dreamseed.stream.worker import consume as consume_events

_EPILOG = (
    "Every stream command finds the broker through NATS_URL (default nats://127.0.0.1:4222, where "
    "`dreamseed stream server` listens). See docs/STREAMING.md."
)
DATABASE_PROBE_S = 5.0
log = logging.getLogger("dreamseed.stream")
OPEN_TIMEOUT_S = 30.0


@click.group(epilog=_EPILOG)
def stream() -> None:
    """Real-time ingestion: finished sessions on subject dreamseed.exam_results.<org_id>."""


@stream.command("server", epilog=_EPILOG)
@click.option("--port", type=int, default=4222, show_default=True, help="Port to listen on (127.0.0.1).")
def server(port: int) -> None:
    """Run a local NATS server with JetStream in the foreground (store under DREAMSEED_HOME/nats)."""
    from dreamseed.stream.server import BrokerMissing, server_command

    settings = load_settings()
    store = settings.dreamseed_home / "nats"
    store.mkdir(parents=True, exist_ok=True)
    try:
        command = server_command(store, port)
    except BrokerMissing as error:
        raise UserError(str(error)) from None
    click.echo(f"[INFO] nats-server with JetStream on nats://127.0.0.1:{port}, store {store}")
    process = subprocess.Popen(command)
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        sys.exit(process.wait())
    except KeyboardInterrupt:
        process.terminate()
        sys.exit(process.wait())


@stream.command("init", epilog=_EPILOG)
def init() -> None:
    """Create or update the stream and its durable consumer (STREAM_* settings); idempotent."""
    settings = load_settings()
    asyncio.run(_init(settings))
    click.echo(f"[INFO] stream {settings.stream_name} and consumer {settings.stream_consumer} ready")


async def _init(settings: Settings) -> None:
    client = await _connected(settings)
    try:
        await ensure_stream(client.jetstream(), StreamLayout.of(settings))
    finally:
        await client.close()


@stream.command("publish", epilog=_EPILOG)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def publish(path: Path) -> None:
    """Publish each line of a JSON Lines file of exam results as one event (Nats-Msg-Id = session_id).

    What the platform's producer does. The stream drops a session published again within 2 hours;
    the consumer's upsert makes any later repeat change nothing.
    """
    settings = load_settings()
    started = time.perf_counter()
    published = asyncio.run(_publish(settings, path))
    seconds = time.perf_counter() - started
    click.echo(
        f"{path.name}: published {published.sent} events in {seconds:.2f}s "
        f"({published.duplicates} dropped as duplicates); last sequence {published.last_sequence}"
    )


async def _publish(settings: Settings, path: Path) -> Published:
    client = await _connected(settings)
    try:
        js = client.jetstream()
        await ensure_stream(js, StreamLayout.of(settings))
        with path.open("rb") as lines:
            return await publish_events(js, file_events(lines), settings.stream_name)
    finally:
        await client.close()


@stream.command("consume", epilog=_EPILOG)
@click.option(
    "--exit-when-idle",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Exit once no event came for this long (demo, backfill); default: run until SIGTERM.",
)
def consume(exit_when_idle: float | None) -> None:
    """Consume the stream into the database until SIGTERM (the batch in hand is finished first).

    Batches of up to STREAM_BATCH_SIZE events (or STREAM_BATCH_MS after the first; up to
    STREAM_BATCH_SIZE_MAX under a backlog) are loaded with the file loader in one transaction
    together with the online θ update of their users, then acked. Several workers may run at once:
    they share the durable consumer. With STREAM_METRICS_PORT: /metrics, /livez, /readyz.
    """
    settings = load_settings()
    logging.basicConfig(format="[%(levelname)s] %(message)s", level=settings.log_level)
    with database(settings) as engine:
        totals = asyncio.run(_consume(settings, engine, exit_when_idle))
    click.echo(
        f"[INFO] Summary: batches={totals.batches}, events={totals.events}, "
        f"quarantined={totals.quarantined}, theta_updates={totals.thetas}"
    )


async def _consume(settings: Settings, engine: Engine, exit_when_idle: float | None) -> Totals:
    layout = StreamLayout.of(settings)
    source = await _opened(settings, layout)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    metrics = StreamMetrics()
    metrics.mark_nats(source.connected)
    metrics.mark_database(await asyncio.to_thread(_database_answers, engine))
    health = None
    if settings.stream_metrics_port is not None:
        from dreamseed.stream.health import serve_health

        health = serve_health(metrics, settings.stream_metrics_port)
    lander = BatchLander(engine, settings, f"stream:{settings.stream_name}")
    limits = BatchLimits(
        settings.stream_batch_size, settings.stream_batch_ms / 1000, settings.stream_batch_size_max
    )
    watcher = asyncio.create_task(_watch(source, engine, metrics, stop, exit_when_idle))
    click.echo(f"[INFO] consuming {settings.stream_name}/{settings.stream_consumer} from {settings.nats_url}")
    try:
        return await consume_events(source, lander, limits, stop, metrics)
    finally:
        watcher.cancel()
        await source.close()
        if health is not None:
            health.shutdown()


def _database_answers(engine: Engine) -> bool:
    """PostgreSQL answers a ``SELECT 1`` (the readiness probe's second half)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception as error:
        log.warning("PostgreSQL does not answer (%s)", type(error).__name__)
        return False


async def _watch(
    source: NatsSource,
    engine: Engine,
    metrics: StreamMetrics,
    stop: asyncio.Event,
    exit_when_idle: float | None,
) -> None:
    """Every second: NATS connected, the lag gauges; every DATABASE_PROBE_S: PostgreSQL answers;
    with ``exit_when_idle``, stop once nothing is pending for that long."""
    idle_since = time.monotonic()
    probed = time.monotonic()
    while not stop.is_set():
        await asyncio.sleep(1.0)
        metrics.mark_nats(source.connected)
        if time.monotonic() - probed >= DATABASE_PROBE_S:
            probed = time.monotonic()
            metrics.mark_database(await asyncio.to_thread(_database_answers, engine))
        try:
            lag = await source.lag()
        except Exception:
            continue
        metrics.pending.set(lag.pending)
        metrics.unacked.set(lag.unacked)
        if lag.pending or lag.unacked:
            idle_since = time.monotonic()
        elif exit_when_idle is not None and time.monotonic() - idle_since >= exit_when_idle:
            stop.set()


@stream.command("status", epilog=_EPILOG)
def status() -> None:
    """The stream's size and the consumer's lag (pending, unacked, last acked sequence)."""
    settings = load_settings()
    info, lag = asyncio.run(_status(settings))
    click.echo(
        f"stream {settings.stream_name}: {info.state.messages} events, last sequence {info.state.last_seq}"
    )
    click.echo(
        f"consumer {settings.stream_consumer}: pending {lag.pending}, unacked {lag.unacked}, "
        f"acked through {lag.acked_sequence}"
    )


async def _status(settings: Settings) -> tuple[StreamInfo, Lag]:
    layout = StreamLayout.of(settings)
    source = await _opened(settings, layout, create=False)
    try:
        info = await source.client.jetstream().stream_info(layout.stream)
        return info, await source.lag()
    except NotFoundError:
        raise UserError(_missing(settings, layout)) from None
    finally:
        await source.close()


async def _connected(settings: Settings) -> Client:
    try:
        return await connect(settings.nats_url)
    except NatsUnreachable as error:
        raise UserError(_unreachable(settings, error)) from None


async def _opened(settings: Settings, layout: StreamLayout, create: bool = True) -> NatsSource:
    try:
        return await asyncio.wait_for(
            NatsSource.open(settings.nats_url, layout, create=create), OPEN_TIMEOUT_S
        )
    except NatsUnreachable as error:
        raise UserError(_unreachable(settings, error)) from None
    except NotFoundError:
        raise UserError(_missing(settings, layout)) from None
    except Exception as error:
        reason = str(error).strip() or type(error).__name__
        raise UserError(
            f"cannot open {layout.stream}/{layout.consumer} at {settings.nats_url}: {reason}"
        ) from None


def _missing(settings: Settings, layout: StreamLayout) -> str:
    return (
        f"no stream {layout.stream} with consumer {layout.consumer} at {settings.nats_url}: "
        "create them with `dreamseed stream init` (or check STREAM_NAME, STREAM_CONSUMER)"
    )


def _unreachable(settings: Settings, error: NatsUnreachable) -> str:
    return f"cannot reach NATS: {error}; start one with `dreamseed stream server` or set NATS_URL"
