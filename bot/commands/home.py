"""Listeners for home (being built)."""

from __future__ import annotations

from slack_bolt import App


def register(app: App) -> None:
    return None
