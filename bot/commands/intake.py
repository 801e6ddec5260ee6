"""Customer intake listeners: messages of linked channels, the intake emoji, and the triage card's buttons.

- ``message`` (``message.channels`` / ``message.groups``): kept in ``channel_messages``; an external author
  becomes a customer contact; an internal reply in a record's thread is its first response; a top-level
  message by an external person follows the project's ``intake`` setting (``suggest``: a triage card where
  internal posts go; ``auto``: logged as an issue at once). Edits, deletions, bot messages, replies and
  acknowledgements are never intake.
- ``reaction_added`` with the project's intake emoji by an internal person logs the message (its text from
  the stored event, else ``reactions.get``) and replies in its thread with the key.
- Log as issue / Log as requirement / Ignore on the triage card; every posted copy is redrawn in place.

Events are acknowledged by Bolt before the listener runs; all the work here is after the ack.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.commands.common import clicked, services_of, tenant_of
from bot.domain.customers import Organisation
from bot.features import intake_steps as steps
from bot.slack import ids
from storage.models import Kind


def _org(context: BoltContext) -> Organisation:
    return Organisation(team_id=tenant_of(context), enterprise_id=context.enterprise_id)


def channel_message(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    steps.take_message(
        services_of(context), client, _org(context), event, bot_user_id=context.bot_user_id,
        actor_team_id=context.actor_team_id, actor_enterprise_id=context.actor_enterprise_id,
    )  # fmt: skip


def reaction_added(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    steps.take_reaction(
        services_of(context), client, _org(context), event, bot_user_id=context.bot_user_id,
        actor_team_id=context.actor_team_id, actor_enterprise_id=context.actor_enterprise_id,
    )  # fmt: skip


def _triage(kind: Kind | None) -> Callable[..., None]:
    def listener(
        ack: Ack, body: dict[str, Any], respond: Any, client: WebClient, context: BoltContext
    ) -> None:
        ack()
        click = clicked(body, respond, client, context)
        action = (body.get("actions") or [{}])[0]
        try:
            value = json.loads(str(action.get("value") or "{}"))
            channel, ts = str(value["c"]), str(value["ts"])
        except (ValueError, KeyError, TypeError):
            return
        steps.triage(click.services, click, client, _org(context), kind=kind, channel=channel, ts=ts)

    listener.__name__ = f"triage_{kind.value if kind else 'ignore'}"
    return listener


def register(app: App) -> None:
    app.event(ids.EVENT_MESSAGE)(channel_message)
    app.event(ids.EVENT_REACTION_ADDED)(reaction_added)
    app.action(ids.ACTION_TRIAGE_ISSUE)(_triage(Kind.ISSUE))
    app.action(ids.ACTION_TRIAGE_REQUIREMENT)(_triage(Kind.REQUIREMENT))
    app.action(ids.ACTION_TRIAGE_IGNORE)(_triage(None))
