"""``/project``: create a project in this channel, list projects, help."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import ids
from bot.commands.common import Reply, ephemeral_reply, reporting, services_of, tenant_of
from bot.domain.errors import N_, UserError
from bot.domain.projects import create_project, list_projects, project_by_key, project_for_channel
from bot.parsing import parse_project_key, split_subcommand
from bot.rendering import render
from bot.services import Services
from bot.slack.gateway import ChannelInfo, SlackGateway
from bot.slack.payloads import SlashCommand
from bot.text import decode_slack_text

PLANNED = frozenset({"link", "unlink", "status", "digest", "settings", "survey", "docs", "close", "reopen"})


def _ensure_bot_can_post(gateway: SlackGateway, channel_id: str) -> None:
    """Join a public channel; in a private one ask to be invited; never link a DM."""
    if channel_id.startswith("D"):
        raise UserError(
            N_("Projects live in channels, not in direct messages. Run this in the project's channel.")
        )
    info = gateway.channel_info(channel=channel_id)
    if not isinstance(info, ChannelInfo):
        if info.error == "channel_not_found":
            # Private channels the bot is not in are invisible to it.
            raise UserError(
                N_(
                    "I can't see this channel. Invite me first (type /invite @Aftercare), then run the command again."
                )
            )
        raise UserError(N_("I couldn't check this channel (%(error)s). Please try again."), error=info.error)
    if info.is_im:
        raise UserError(
            N_("Projects live in channels, not in direct messages. Run this in the project's channel.")
        )
    if info.is_member:
        return
    if info.is_private:
        raise UserError(
            N_(
                "This is a private channel: invite me first (type /invite @Aftercare), then run the command again."
            )
        )
    joined = gateway.join(channel=channel_id)
    if not joined.ok:
        raise UserError(
            N_("I couldn't join this channel (%(error)s). Invite me with /invite @Aftercare and try again."),
            error=joined.error,
        )


def _new(
    services: Services, gateway: SlackGateway, command: SlashCommand, team_id: str, rest: str, reply: Reply
) -> None:
    key_text, _, name = rest.partition(" ")
    if not key_text:
        raise UserError(N_("Give a key and a name: /project new ACME Acme Corp after-sales"))
    key = parse_project_key(key_text)
    name = decode_slack_text(name).strip()
    with services.db.read() as session:
        if project_by_key(session, team_id=team_id, key=key):
            raise UserError(
                N_("There is already a project %(key)s in this workspace. Pick another key."), key=key
            )
        linked = project_for_channel(session, team_id=team_id, channel_id=command.channel_id)
        if linked:
            raise UserError(
                N_("This channel is already linked to project %(key)s. Use /project unlink first."),
                key=linked.key,
            )
    if not name:
        raise UserError(N_("Give the project a name: /project new %(key)s Acme Corp after-sales"), key=key)
    _ensure_bot_can_post(gateway, command.channel_id)
    with services.db.write() as session:
        project = create_project(
            session,
            team_id=team_id,
            key=key,
            name=name,
            channel_id=command.channel_id,
            user_id=command.user_id,
            timezone=services.default_timezone,
            locale=services.default_locale,
            now=services.now(),
        )
    text = render(
        "project_created.j2", project.locale, user_id=command.user_id, key=project.key, name=project.name
    )
    sent = gateway.post(channel=command.channel_id, text=text)
    if not sent.ok:
        reply(text)


def project_command(
    ack: Ack, body: dict[str, Any], respond: Any, client: WebClient, context: BoltContext
) -> None:
    ack()
    services = services_of(context)
    reply = ephemeral_reply(respond)
    locale = services.default_locale
    with reporting(reply, lambda: locale):
        command = SlashCommand.model_validate(body)
        team_id = tenant_of(context)
        sub, rest = split_subcommand(command.text)
        if sub in ("", "help"):
            reply(render("help_project.j2", locale))
        elif sub == "new":
            _new(services, SlackGateway(client), command, team_id, rest, reply)
        elif sub == "list":
            with services.db.read() as session:
                projects = list_projects(session, team_id=team_id)
            reply(render("project_list.j2", locale, projects=projects))
        elif sub in PLANNED:
            raise UserError(N_("/project %(verb)s is not available in this version yet."), verb=sub)
        else:
            raise UserError(N_("Unknown subcommand %(sub)s. Try /project help."), sub=sub[:40])


def register(app: App) -> None:
    app.command(ids.CMD_PROJECT)(project_command)
