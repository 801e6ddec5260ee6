"""Thin listeners, one module per Slack surface or record kind, each with ``register(app)``."""

from __future__ import annotations

from slack_bolt import App

from bot.commands import (
    cards,
    events,
    forms,
    home,
    meeting,
    messages_tab,
    nudges,
    project,
    records,
    review,
    shortcuts,
    surveys,
)


def register_all(app: App) -> None:
    for module in (
        project,
        records,
        meeting,
        shortcuts,
        forms,
        cards,
        home,
        events,
        nudges,
        review,
        surveys,
        messages_tab,
    ):
        module.register(app)
