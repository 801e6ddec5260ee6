"""Builders that broke a Block Kit rule, driven through the real request path against the stand-in Slack.

The stand-in refuses what Slack refuses (``invalid_blocks``), so each scenario fails where Slack would.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.delivery.base import JobContext
from bot.jobs import risk_review
from bot.slack import ids
from storage.models import Record
from tests.harness import SlackHarness, click, find_button, job_runner

# Thursday 12 November 2026, 10:00 UTC: the default review slot of a UTC project.
SLOT = datetime(2026, 11, 12, 10, 0, tzinfo=UTC)


def _post_review(slack: SlackHarness) -> list[dict[str, Any]]:
    result = job_runner(slack, SLOT).run([risk_review.plan], JobContext(now=SLOT))
    assert slack.fake.invalid == [], slack.fake.invalid
    assert result.sent == 1
    (call,) = slack.fake.calls_to("chat.postMessage")
    assert "Risk review" in str(call.args["text"])
    blocks = call.args["blocks"]
    return list(json.loads(blocks) if isinstance(blocks, str) else blocks)


def _actions_of(blocks: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    (block,) = [b for b in blocks if b.get("block_id") == f"{ids.BLOCK_REVIEW_ACTIONS}:{key}"]
    return list(block["elements"])


def test_review_of_a_risk_at_the_end_of_the_scale_is_accepted_by_slack(project: SlackHarness) -> None:
    """``p:5`` without an impact leaves one move (lower p): a button, not a one-option overflow menu."""
    project.fake.add_channel("CPROJ", name="acme")
    project.services.clock = lambda: SLOT - timedelta(days=2)
    project.command("/risk", "new Vendor goes bankrupt p:5")
    project.fake.reset_calls()
    blocks = _post_review(project)
    elements = _actions_of(blocks, "ACME-1")
    assert "overflow" not in [e["type"] for e in elements]
    lower = find_button(blocks, ids.ACTION_REVIEW_ADJUST)
    assert lower["text"]["text"] == "Lower probability (5 → 4)"
    assert json.loads(lower["value"]) == {"key": "ACME-1", "v": 1, "f": "p", "d": -1}

    project.services.clock = lambda: SLOT + timedelta(minutes=5)
    (review,) = project.fake.calls_to("chat.postMessage")
    channel = str(review.args["channel"])
    response = click(project, lower, channel=channel, message_ts=project.fake.posted(channel)[-1]["ts"])
    assert response.status == 200
    with project.db.read() as session:
        risk = session.scalar(select(Record).where(Record.key == "ACME-1"))
        assert risk is not None and (risk.probability, risk.version) == (4, 2)


def test_review_of_a_risk_in_the_middle_keeps_its_menu(project: SlackHarness) -> None:
    project.fake.add_channel("CPROJ", name="acme")
    project.services.clock = lambda: SLOT - timedelta(days=2)
    project.command("/risk", "new Scope creep p:5 i:5")
    project.fake.reset_calls()
    elements = _actions_of(_post_review(project), "ACME-1")
    (menu,) = [e for e in elements if e["action_id"] == ids.ACTION_REVIEW_ADJUST]
    assert menu["type"] == "overflow"
    assert [o["text"]["text"] for o in menu["options"]] == [
        "Lower probability (5 → 4)",
        "Lower impact (5 → 4)",
    ]
