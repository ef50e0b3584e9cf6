"""`dreamseed serve` itself: a real process on a free port, answering health, stopping on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_dreamseed_serve_answers_health_and_stops(cli_env: dict[str, str]) -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "dreamseed.cli.main",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        try:
            answer = wait_for_health(process, port)
            assert answer.status_code == 200
            assert answer.json()["database"] == "ok"
            process.terminate()
            # uvicorn shuts down gracefully, then re-raises the signal so the exit status shows it
            assert process.wait(timeout=30) in (0, -signal.SIGTERM)
        finally:
            if process.poll() is None:
                process.kill()


def wait_for_health(process: subprocess.Popen[bytes], port: int) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health")
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"dreamseed serve did not start: {output}")
            time.sleep(0.2)
