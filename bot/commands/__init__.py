"""Thin listeners, one module per Slack surface or record kind, each with ``register(app)``."""

from __future__ import annotations

from slack_bolt import App

from bot.commands import forms, meeting, project, records, shortcuts


def register_all(app: App) -> None:
    for module in (project, records, meeting, shortcuts, forms):
        module.register(app)
