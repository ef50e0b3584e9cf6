"""The consumer's HTTP endpoints on STREAM_METRICS_PORT: ``/metrics`` (Prometheus), ``/livez`` (the
process answers) and ``/readyz`` (200 while connected to NATS and PostgreSQL, else 503 and what is
missing) — what deploy/k8s/stream-consumer.yaml's probes ask. Served from a thread of its own, so it
answers while a batch lands."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from dreamseed.stream.metrics import StreamMetrics


def readiness(metrics: StreamMetrics) -> tuple[int, str]:
    """(HTTP status, body) of ``/readyz``."""
    missing = [
        name for name, up in (("NATS", metrics.nats_up), ("PostgreSQL", metrics.database_ok)) if not up
    ]
    if not missing:
        return 200, "ready: connected to NATS and PostgreSQL\n"
    return 503, f"not ready: {' and '.join(missing)} unreachable\n"


def serve_health(metrics: StreamMetrics, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """Start the endpoints on ``host:port`` in a daemon thread; ``shutdown()`` the result to stop."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._answer(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)
            elif path == "/livez":
                self._answer(200, b"alive\n")
            elif path == "/readyz":
                status, body = readiness(metrics)
                self._answer(status, body.encode())
            else:
                self._answer(404, b"not found: /metrics, /livez or /readyz\n")

        def _answer(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="stream-health", daemon=True).start()
    return server
