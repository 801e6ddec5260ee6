"""Errors a person caused and can fix. Their text is a catalogue message id, translated at the edge."""

from __future__ import annotations

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
