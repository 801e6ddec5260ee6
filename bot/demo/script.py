"""The scripted three weeks: real signed requests to the real app, against the local stand-in for Slack.

The cast and calendar are in :mod:`bot.demo.cast`, the demo's Slack client side in :mod:`bot.demo.driver`,
and the story, part by part, in the ``story_*`` modules.
"""

from __future__ import annotations

from bot.demo import story_closing, story_week1, story_weeks23
from bot.demo.cast import (
    ALICE,
    BOB,
    CHANNEL,
    CHANNEL_NAME,
    CHEN,
    CHEN_TEAM,
    KEY,
    PEOPLE,
    REPORT,
    REPORT_NAME,
    START,
    TEAM,
    TEAM_PEOPLE,
    Person,
    day,
    iso,
)
from bot.demo.clock import Clock, DrainableExecutor
from bot.demo.driver import DemoError, Driver, Step, blocks_of, button, form_state


def play(driver: Driver, locale: str) -> None:
    """Three weeks of an after-sales project, from kick-off to the closing survey."""
    story_week1.play(driver, locale)
    story_weeks23.play(driver, locale)
    story_closing.play(driver, locale)


__all__ = [
    "ALICE", "BOB", "CHANNEL", "CHANNEL_NAME", "CHEN", "CHEN_TEAM", "KEY", "PEOPLE", "REPORT", "REPORT_NAME",
    "START", "TEAM", "TEAM_PEOPLE", "Clock", "DemoError", "DrainableExecutor", "Driver", "Person", "Step", "blocks_of",
    "button", "day", "form_state", "iso", "play",
]  # fmt: skip
