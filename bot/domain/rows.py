"""Helpers over query rows shared by the weekly reports: chunks of an IN list, titles on one line."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

# A result row of a column select (typed loosely: SQLAlchemy's Row generics vary by version).
Row = Any
# Projects per query (keeps IN lists well under every backend's parameter limit).
CHUNK = 400

_BREAKS = ("\n", "\r", "\t")


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def one_line(text: str) -> str:
    """A title on one line (digest and review lines are split on line breaks)."""
    if "\n" in text or "\r" in text or "\t" in text:  # _BREAKS, tested without a generator: a hot path
        return " ".join(text.split())
    return text
