"""Log lines go to the standard error of the moment, never to a stream that was closed since."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest

from bot.ops import logs


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


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
