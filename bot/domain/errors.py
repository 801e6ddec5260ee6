"""Errors a person caused and can fix. Their text is a catalogue message id, translated at the edge."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def N_(message: str) -> str:
    """Mark a message for the catalogue without translating it yet."""
    return message


class UserError(Exception):
    """Bad input or a refused action: shown to the person, nothing saved.

    ``field`` names the modal block the error belongs to, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params
        self.field = field


# The attribute under which an error notes the language it happened in (read by the listeners' reporting).
LOCALE_NOTE = "aftercare_locale"


@contextmanager
def speaking(locale: str) -> Iterator[None]:
    """Note on any error raised inside that it happened while speaking ``locale`` (a project's, once known).

    The listener that reports the error (a :class:`UserError`'s text or the apology) then answers in that
    language; an error already noted by an inner ``speaking`` keeps its note.
    """
    try:
        yield
    except Exception as error:
        if not getattr(error, LOCALE_NOTE, None):
            setattr(error, LOCALE_NOTE, locale)
        raise


def spoken(error: BaseException, default: str) -> str:
    """The language noted on ``error`` by :func:`speaking`, else ``default``."""
    noted = getattr(error, LOCALE_NOTE, None)
    return noted if isinstance(noted, str) and noted else default
