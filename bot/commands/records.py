"""``/req``, ``/issue``, ``/task`` and ``/risk``: one listener per command, same verbs for all kinds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import ids
from bot.commands.common import ephemeral_reply, reporting, services_of, tenant_of
from bot.commands.forms import open_record_form
from bot.domain.errors import N_, UserError
from bot.domain.projects import project_for_channel
from bot.domain.records import NewRecord, create_record
from bot.flows import post_record_card
from bot.i18n import t
from bot.labels import KIND_PLURALS
from bot.parsing import parse_record_options, split_subcommand
from bot.rendering import render
from bot.slack.gateway import SlackGateway
from bot.slack.payloads import SlashCommand
from storage.models import Kind

# Verbs of the full life cycle, built on top of this foundation in a later version.
PLANNED_VERBS = frozenset(
    {"list", "show", "edit", "assign", "due", "comment", "delete", "close", "accept", "start", "deliver",
     "reject", "resolve", "reopen", "done", "mitigate"}
)  # fmt: skip
EXTRA_OPTIONS = {Kind.TASK: " [est:4h]", Kind.RISK: " [p:1-5] [i:1-5]"}

NOT_LINKED = N_(
    "This channel isn't linked to a project yet. Create one here with /project new ACME Acme Corp after-sales."
)


def help_text(kind: Kind, locale: str) -> str:
    return render(
        "help_record.j2",
        locale,
        command=ids.COMMAND_FOR_KIND[kind],
        kind_plural=t(locale, KIND_PLURALS[kind]),
        extra_options=EXTRA_OPTIONS.get(kind, ""),
    )


def _handle(
    kind: Kind, ack: Ack, body: dict[str, Any], respond: Any, client: WebClient, context: BoltContext
) -> None:
    ack()
    services = services_of(context)
    locale = [services.default_locale]
    reply = ephemeral_reply(respond)
    with reporting(reply, lambda: locale[0]):
        command = SlashCommand.model_validate(body)
        team_id = tenant_of(context)
        sub, rest = split_subcommand(command.text)
        if sub in ("", "help"):
            reply(help_text(kind, locale[0]))
            return
        if sub in PLANNED_VERBS:
            raise UserError(
                N_("%(command)s %(verb)s is not available in this version yet."),
                command=command.command,
                verb=sub,
            )
        if sub != "new":
            raise UserError(
                N_("Unknown subcommand %(sub)s. Try %(command)s help."), sub=sub[:40], command=command.command
            )
        with services.db.read() as session:
            project = project_for_channel(session, team_id=team_id, channel_id=command.channel_id)
        if project is None:
            raise UserError(NOT_LINKED)
        locale[0] = project.locale
        gateway = SlackGateway(client)
        if not rest:
            open_record_form(
                services, gateway, team_id=team_id, kind=kind, locale=project.locale,
                trigger_id=command.trigger_id, channel_id=command.channel_id, user_id=command.user_id,
            )  # fmt: skip
            return
        options = parse_record_options(rest, kind)
        new = NewRecord(
            kind=kind,
            title=options.title,
            assignee_id=options.assignee_id,
            due_text=options.due_text,
            priority=options.priority,
            estimate_hours=options.estimate_hours,
            probability=options.probability,
            impact=options.impact,
        )
        with services.db.write() as session:
            record = create_record(
                session,
                team_id=team_id,
                project_id=project.id,
                user_id=command.user_id,
                new=new,
                now=services.now(),
            )
        sent = post_record_card(services, gateway, record, channel=command.channel_id)
        if not sent.ok:
            reply(
                t(
                    project.locale,
                    "Logged %(key)s, but I couldn't post its card here (%(error)s).",
                    key=record.key,
                    error=sent.error,
                )
            )


def _listener(kind: Kind) -> Callable[..., None]:
    def listener(
        ack: Ack, body: dict[str, Any], respond: Any, client: WebClient, context: BoltContext
    ) -> None:
        _handle(kind, ack, body, respond, client, context)

    listener.__name__ = f"{kind.value}_command"
    return listener


def register(app: App) -> None:
    for command, kind in ids.RECORD_COMMANDS.items():
        app.command(command)(_listener(kind))
