"""``/meeting`` and the "Add to meeting notes" shortcut: a notes form whose action items become tasks."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.basics import modal_errors
from bot.blocks.meeting import (
    meeting_form_errors,
    meeting_help_text,
    meeting_list_text,
    parse_meeting_form,
)
from bot.commands.common import Asked, Shortcut, answer_command, answer_shortcut, services_of, tenant_of
from bot.domain.errors import N_, UserError, spoken
from bot.domain.meetings import MAX_MEETING_TITLE, MAX_NOTES, MeetingInvalid
from bot.domain.parsing import split_subcommand
from bot.domain.projects import NOT_LINKED_YET
from bot.features import meeting_steps as steps
from bot.features import shortcut_steps
from bot.i18n import error_text
from bot.slack import ids
from bot.slack.gateway import SlackGateway
from bot.slack.payloads import metadata_of
from bot.slack.text import decode_slack_text
from storage.models import ProjectStatus

log = logging.getLogger(__name__)

CLOSED = N_("Project %(key)s is closed; reopen it to log new records.")


# -- /meeting ------------------------------------------------------------------------------------------


def meeting_command(
    ack: Ack, body: dict[str, Any], respond: Any, client: WebClient, context: BoltContext
) -> None:
    ack()
    answer_command(body, respond, client, context, _meeting)


def _meeting(req: Asked) -> None:
    command = req.command
    sub, rest = split_subcommand(command.text)
    if sub not in ("", "help", "new", "list"):
        raise UserError(
            N_("Unknown subcommand %(sub)s. Try %(command)s help."), sub=sub[:40], command=command.command
        )
    project, meetings = steps.channel_meetings(
        req.services, team_id=req.team_id, channel_id=command.channel_id, listing=sub == "list"
    )
    if project:
        req.locale = project.locale
    if sub in ("", "help"):
        req.reply(meeting_help_text(req.locale))
        return
    if project is None:
        raise UserError(NOT_LINKED_YET)
    if sub == "list":
        req.reply(meeting_list_text(project.key, meetings, project.locale))
        return
    if project.status != ProjectStatus.ACTIVE:
        raise UserError(CLOSED, key=project.key)
    steps.open_meeting_form(
        req.services, req.gateway, team_id=req.team_id, locale=project.locale,
        trigger_id=command.trigger_id, user_id=command.user_id, project=project,
        channel_id=command.channel_id, title=decode_slack_text(rest).strip()[:MAX_MEETING_TITLE],
    )  # fmt: skip


# -- "Add to meeting notes" ----------------------------------------------------------------------------


def add_to_meeting_shortcut(
    ack: Ack, body: dict[str, Any], respond: Any, client: WebClient, context: BoltContext
) -> None:
    ack()
    answer_shortcut(body, respond, client, context, _add_to_meeting)


def _add_to_meeting(sc: Shortcut) -> None:
    if sc.project and sc.project.status != ProjectStatus.ACTIVE:
        raise UserError(CLOSED, key=sc.project.key)
    if sc.no_project_form():
        return
    message = sc.payload.message
    form = shortcut_steps.prefilled(sc.payload, sc.locale, keep=MAX_NOTES)
    draft_id = steps.open_meeting_form(
        sc.services, sc.gateway, team_id=sc.team_id, locale=sc.locale, trigger_id=sc.payload.trigger_id,
        user_id=sc.payload.user.id, project=sc.project, projects=sc.active, channel_id=sc.payload.channel.id,
        notes=form.shown, notice=form.notice,
        draft={
            "full_text": form.full_text, "shown_text": form.shown, "message_ts": message.ts,
            "thread_root": sc.payload.thread_root, "source_channel_id": sc.payload.channel.id,
        },
    )  # fmt: skip
    shortcut_steps.link_source(sc.services, sc.gateway, sc.payload, team_id=sc.team_id, draft_id=draft_id)


# -- submission ----------------------------------------------------------------------------------------


def _submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    services = services_of(context)
    team_id = tenant_of(context)
    user_id = str(body["user"]["id"])
    form = parse_meeting_form(view)
    draft_id = str(metadata_of(view).get("draft", ""))
    try:
        saved = steps.save_meeting(services, team_id=team_id, user_id=user_id, draft_id=draft_id, form=form)
    except MeetingInvalid as invalid:
        locale = spoken(invalid, services.default_locale)
        errors = [(e.field, error_text(locale, e)) for e in invalid.errors]
        ack(**modal_errors(meeting_form_errors(view, errors)))
        return
    except UserError as error:
        text = error_text(spoken(error, services.default_locale), error)
        ack(**modal_errors(meeting_form_errors(view, [(error.field, text)])))
        return
    ack()
    steps.publish(services, SlackGateway(client), saved, user_id=user_id)


def register(app: App) -> None:
    app.command(ids.CMD_MEETING)(meeting_command)
    app.message_shortcut(ids.SHORTCUT_ADD_TO_MEETING)(add_to_meeting_shortcut)
    app.view(ids.VIEW_MEETING)(_submit)
