"""Message shortcuts: "Log as requirement", "Log as issue", "Create task" turn any message into a record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import ids, shortcut_steps
from bot.commands.common import ephemeral_reply, reporting, services_of, tenant_of
from bot.flows import open_record_form
from bot.i18n import t
from bot.slack.blocks import MAX_INPUT, no_project_modal
from bot.slack.gateway import SlackGateway
from bot.slack.payloads import MessageShortcut
from bot.text import prefill
from storage.models import Kind


def _handle(
    kind: Kind, ack: Ack, body: dict[str, Any], respond: Any, client: WebClient, context: BoltContext
) -> None:
    ack()
    services = services_of(context)
    locale = [services.default_locale]
    with reporting(ephemeral_reply(respond), lambda: locale[0]):
        shortcut = MessageShortcut.model_validate(body)
        team_id = tenant_of(context)
        gateway = SlackGateway(client)
        project, active = shortcut_steps.shortcut_projects(
            services, team_id=team_id, channel_id=shortcut.channel.id
        )
        has_projects = bool(active)
        if project:
            locale[0] = project.locale
        if not has_projects:
            gateway.open_view(
                trigger_id=shortcut.trigger_id,
                view=no_project_modal(locale[0]),
            )
            return
        message = shortcut.message
        title, full_text = prefill(message.text, message.file_names)
        shown = full_text[:MAX_INPUT]
        notices = []
        if len(full_text) > MAX_INPUT:
            notices.append(
                t(
                    locale[0],
                    "The message is longer than %(limit)s characters: the form shows the start, and the whole text is saved.",
                    limit=MAX_INPUT,
                )
            )
        if not full_text:
            notices.append(t(locale[0], "This message has no text: give the record a title."))
        draft_id = open_record_form(
            services, gateway, team_id=team_id, kind=kind, locale=locale[0], trigger_id=shortcut.trigger_id,
            channel_id=shortcut.channel.id, user_id=str(body["user"]["id"]),
            selected_project_id=project.id if project else None, title=title, description=shown,
            notice=" ".join(notices) or None,
            draft={
                "full_text": full_text, "shown_text": shown, "message_ts": message.ts,
                "thread_root": shortcut.thread_root, "source_channel_id": shortcut.channel.id,
                # Messages posted by bots have no human author to record as requester.
                "author_id": message.user if not message.bot_id else None,
            },
        )  # fmt: skip
        shortcut_steps.link_source(services, gateway, shortcut, team_id=team_id, draft_id=draft_id)


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
