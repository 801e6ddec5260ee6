"""Logging: readable lines for people, or one JSON object per line for log pipelines (AFTERCARE_LOG_FORMAT=json).

Extra fields go in ``extra={"fields": {...}}``; secrets never do (tokens and signing secrets are not logged).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

# The logger Bolt writes through (``bot/slack/app.py`` hands it to the app).
BOLT_LOGGER = "aftercare.bolt"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    # (second, its text): the server logs hundreds of lines a second, and the local date and time of each costs
    # a ``time.strftime``; one tuple, replaced whole, so threads never see a second with another's text.
    _second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt:
            return super().formatTime(record, datefmt)
        second, text = self._second
        if second != int(record.created):
            second = int(record.created)
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = (second, text)
        return f"{text},{int(record.msecs):03d}"  # logging's own default: "%s,%03d"

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and fields:
            text += " " + " ".join([f"{key}={value}" for key, value in fields.items()])
        return text


class _CurrentStderr(logging.StreamHandler[Any]):
    """Writes to whatever ``sys.stderr`` is at the moment of logging, not the one seen at configuration.

    A process that swaps its standard error (a test runner capturing output, a daemon redirecting it) would
    otherwise keep writing to a closed stream and print "Logging error … I/O operation on closed file".
    """

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        return


def _skip_unused_lookups() -> None:
    """Neither format prints a line's source file or thread: do not look them up for every line.

    Switches from the Logging HOWTO's "Optimization" section; the server writes a line per request, and the
    caller's frame and the thread's name were a third of its cost. The process id stays: gunicorn's own
    log format prints it (``serve --workers``).
    """
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False


def configure(*, verbose: bool = False, fmt: str = "text") -> None:
    _skip_unused_lookups()
    handler = _CurrentStderr()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbose else logging.WARNING)
    # slack_sdk logs request bodies at DEBUG; keep them out even in verbose mode.
    logging.getLogger("slack_sdk").setLevel(logging.INFO)
    # The Web API client logs every failed attempt and retry itself; Aftercare says what failed, once, in its
    # own words (check, serve, the delivery ledger). Its lines are kept for --verbose.
    logging.getLogger("slack_sdk.web").setLevel(logging.DEBUG if verbose else logging.CRITICAL)
    # These two test their logger's own level before building a debug line (slack_sdk's holds the whole
    # request and response), and an unset level (0) passes that test: set it, or every call pays for a line
    # no handler prints.
    logging.getLogger("slack_sdk.web.base_client").setLevel(logging.DEBUG if verbose else logging.CRITICAL)
    logging.getLogger(BOLT_LOGGER).setLevel(logging.DEBUG if verbose else logging.INFO)
