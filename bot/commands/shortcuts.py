"""Message shortcuts: "Log as requirement", "Log as issue", "Create task" turn any message into a record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.commands.common import Shortcut, answer_shortcut
from bot.features import shortcut_steps
from bot.features.record_cards import open_record_form
from bot.i18n import t
from bot.slack import ids
from storage.models import Kind


def _handle(
    kind: Kind, ack: Ack, body: dict[str, Any], respond: Any, client: WebClient, context: BoltContext
) -> None:
    ack()
    answer_shortcut(body, respond, client, context, lambda sc: _log_message(kind, body, sc))


def _log_message(kind: Kind, body: dict[str, Any], sc: Shortcut) -> None:
    if sc.no_project_form():
        return
    message = sc.payload.message
    form = shortcut_steps.prefilled(sc.payload, sc.locale)
    notices = [form.notice] if form.notice else []
    if not form.full_text:
        notices.append(t(sc.locale, "This message has no text: give the record a title."))
    draft_id = open_record_form(
        sc.services, sc.gateway, team_id=sc.team_id, kind=kind, locale=sc.locale, trigger_id=sc.payload.trigger_id,
        channel_id=sc.payload.channel.id, user_id=str(body["user"]["id"]),
        selected_project_id=sc.project.id if sc.project else None, title=form.title, description=form.shown,
        notice=" ".join(notices) or None,
        draft={
            "full_text": form.full_text, "shown_text": form.shown, "message_ts": message.ts,
            "thread_root": sc.payload.thread_root, "source_channel_id": sc.payload.channel.id,
            # Messages posted by bots have no human author to record as requester.
            "author_id": message.user if not message.bot_id else None,
        },
    )  # fmt: skip
    shortcut_steps.link_source(sc.services, sc.gateway, sc.payload, team_id=sc.team_id, draft_id=draft_id)


def _listener(kind: Kind) -> Callable[..., None]:
    def listener(
        ack: Ack, body: dict[str, Any], respond: Any, client: WebClient, context: BoltContext
    ) -> None:
        _handle(kind, ack, body, respond, client, context)

    listener.__name__ = f"shortcut_{kind.value}"
    return listener


def register(app: App) -> None:
    for callback_id, kind in ids.MESSAGE_SHORTCUTS.items():
        app.message_shortcut(callback_id)(_listener(kind))
