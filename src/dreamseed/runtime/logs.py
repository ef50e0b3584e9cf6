"""Job logs in the original guide's shape (`[INFO] message`), or JSON lines with LOG_FORMAT=json."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TextIO

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARN": 30, "WARNING": 30, "ERROR": 40, "FATAL": 50}


class JobLogger:
    """Prints one line per message to stdout; `[LEVEL] message` or a JSON object with job context."""

    def __init__(
        self,
        job: str,
        run_id: str,
        log_format: str = "text",
        level: str = "INFO",
        stream: TextIO | None = None,
    ) -> None:
        self.job = job
        self.run_id = run_id
        self.date: str | None = None
        self.format = log_format
        self.threshold = _LEVELS[level.upper()]
        self.stream = stream

    def _emit(self, level: str, message: str) -> None:
        if _LEVELS[level] < self.threshold:
            return
        stream = self.stream or sys.stdout
        if self.format == "json":
            record = {
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "level": level,
                "job": self.job,
                "run_id": self.run_id,
                "date": self.date,
                "message": message,
            }
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            stream.write(f"[{level}] {message}\n")
        stream.flush()

    def debug(self, message: str) -> None:
        self._emit("DEBUG", message)

    def info(self, message: str) -> None:
        self._emit("INFO", message)

    def warn(self, message: str) -> None:
        self._emit("WARN", message)

    def error(self, message: str) -> None:
        self._emit("ERROR", message)

    def fatal(self, message: str) -> None:
        self._emit("FATAL", message)

    def plain(self, message: str) -> None:
        """A line without a level tag (the original's `Calibration upsert completed: …`)."""
        if self.format == "json":
            self._emit("INFO", message)
        elif _LEVELS["INFO"] >= self.threshold:
            stream = self.stream or sys.stdout
            stream.write(message + "\n")
            stream.flush()
