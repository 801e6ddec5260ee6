"""A customer of another organisation in the project's Slack Connect channel, and the team around them.

Events are shaped as Slack sends them in a Slack Connect channel: ``is_ext_shared_channel``, the author's
``user_team`` and ``team``, the other organisation's top-level ``team_id``, ``authorizations`` of this install.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.slack import ids
from storage.models import ChannelMessage, MemberRole, ProjectMember
from tests.harness import TEAM, Response, SlackHarness

CUSTOMER, CUSTOMER_TEAM = "UCUST", "TCUST"
CHANNEL = "CPROJ"
# A little before the harness's instant (2026-11-23 09:00 UTC = 1795424400).
T0 = 1795423800


def ts(offset: int) -> str:
    return f"{T0 + offset}.000100"


def share_with_customer(slack: SlackHarness, channel: str = CHANNEL) -> None:
    """The channel is shared with the customer's organisation; the customer is in it."""
    slack.fake.add_user(CUSTOMER, team_id=CUSTOMER_TEAM, name="cara")
    shared = slack.fake.ensure_channel(channel)
    shared.is_ext_shared = True
    shared.members.add(CUSTOMER)


def says(slack: SlackHarness, user: str, text: str, at: str, *, team: str = TEAM, thread_ts: str | None = None,
         channel: str = CHANNEL, event_id: str | None = None, source_team: str = CUSTOMER_TEAM,
         **extra: Any) -> Response:  # fmt: skip
    event: dict[str, Any] = {
        "type": "message", "channel": channel, "channel_type": "channel", "user": user, "user_team": team,
        "source_team": source_team, "team": team, "text": text, "ts": at, "event_ts": at, **extra,
    }  # fmt: skip
    if thread_ts:
        event["thread_ts"] = thread_ts
    return slack.event(event, event_id=event_id or f"Ev{at}", source_team=source_team, ext_shared=True)


def customer_says(slack: SlackHarness, text: str, at: str, **kwargs: Any) -> Response:
    return says(slack, CUSTOMER, text, at, team=CUSTOMER_TEAM, **kwargs)


def react(slack: SlackHarness, user: str, at: str, *, reaction: str = "ticket", item_user: str = CUSTOMER,
          channel: str = CHANNEL, event_id: str | None = None) -> Response:  # fmt: skip
    event = {
        "type": "reaction_added", "user": user, "reaction": reaction, "item_user": item_user,
        "item": {"type": "message", "channel": channel, "ts": at}, "event_ts": f"{T0 + 3000}.000200",
    }  # fmt: skip
    return slack.event(
        event, event_id=event_id or f"EvR{user}{at}", source_team=CUSTOMER_TEAM, ext_shared=True
    )


def stored(slack: SlackHarness) -> dict[str, ChannelMessage]:
    with slack.db.read() as session:
        return {m.ts: m for m in session.scalars(select(ChannelMessage))}


def contacts(slack: SlackHarness) -> list[str]:
    with slack.db.read() as session:
        return sorted(
            session.scalars(
                select(ProjectMember.user_id).where(ProjectMember.role == MemberRole.CUSTOMER_CONTACT)
            )
        )


def posts_to(slack: SlackHarness, channel: str) -> list[dict[str, Any]]:
    return [c.args for c in slack.fake.calls_to("chat.postMessage") if c.args.get("channel") == channel]


def blocks_of(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def action_ids(args: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in blocks_of(args) if b["type"] == "actions" for e in b["elements"]]


def triage_button(args: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in blocks_of(args):
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["action_id"] == action_id:
                return dict(element)
    raise AssertionError(f"no {action_id} in {args}")


TRIAGE = ids.TRIAGE_ACTIONS
