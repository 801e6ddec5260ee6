"""Thin listeners, one module per Slack surface or record kind, each with ``register(app)``."""

from __future__ import annotations

from slack_bolt import App

from bot.commands import (
    cards,
    events,
    forms,
    home,
    intake,
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
    # messages_tab first: its listener takes only DMs to the bot (Bolt runs the first listener that matches),
    # so a general ``message`` listener registered later never swallows them. Then the record commands, the
    # busiest requests: Bolt tries the listeners in order, and each try costs (commands only match commands).
    for module in (
        messages_tab,
        records,
        project,
        meeting,
        shortcuts,
        forms,
        cards,
        home,
        events,
        nudges,
        review,
        surveys,
        intake,  # its general ``message`` listener comes after every narrower one
    ):
        module.register(app)
