"""Log lines go to the standard error of the moment, never to a stream that was closed since."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.demo.simulator import FakeSlack
from bot.ops import logs

_LEVEL_SET = ("slack_sdk", "slack_sdk.web", "slack_sdk.web.base_client", "alembic", logs.BOLT_LOGGER)


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in _LEVEL_SET}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, before in levels.items():
        logging.getLogger(name).setLevel(before)


def test_a_slack_call_builds_its_debug_lines_only_with_verbose(
    restored_logging: None, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """slack_sdk builds a debug line holding the whole request and answer whenever its logger's own level
    allows DEBUG — an unset level does — before the logger filters it: without --verbose it builds none."""
    client = WebClient(token="xoxb-test-token", base_url=fake_slack.url)
    built: list[str] = []
    monkeypatch.setattr(client.logger, "debug", lambda message, *args, **kwargs: built.append(message))

    logs.configure()
    client.auth_test()
    assert built == []
    assert logging.getLogger(logs.BOLT_LOGGER).level == logging.INFO  # Bolt's own DEBUG-level check

    logs.configure(verbose=True)
    client.auth_test()
    assert any("auth.test" in line for line in built)


def test_a_log_line_after_stderr_was_swapped_and_closed_reaches_the_new_stderr(
    restored_logging: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    logs.configure()
    logging.getLogger("aftercare.server").info("before")
    first.close()  # what a test runner does with the capture of a finished test

    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("aftercare.server").info("after")

    assert second.getvalue().endswith("INFO aftercare.server: after\n")
    assert "Logging error" not in second.getvalue()


def _line_at(formatter: logging.Formatter, created: float) -> str:
    record = logging.LogRecord("aftercare.server", logging.INFO, __file__, 1, "request", None, None)
    record.created, record.msecs = created, int((created - int(created)) * 1000) + 0.0
    return formatter.format(record)


def test_text_lines_carry_the_same_local_time_as_loggings_own_format_within_and_across_seconds() -> None:
    ours = logs.TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    stdlib = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    instants = [1_796_000_000.125, 1_796_000_000.987, 1_796_000_001.002, 1_796_000_000.5, 1_796_086_400.25]

    assert [_line_at(ours, at) for at in instants] == [_line_at(stdlib, at) for at in instants]
    assert _line_at(ours, instants[2]).endswith(",002 INFO aftercare.server: request")


def test_text_lines_append_their_fields_as_key_value_pairs() -> None:
    record = logging.LogRecord("aftercare.server", logging.INFO, __file__, 1, "request", None, None)
    record.fields = {"status": 200, "path": "/slack/events"}

    assert logs.TextFormatter("%(message)s").format(record) == "request status=200 path=/slack/events"
