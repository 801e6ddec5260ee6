"""``/meeting`` and the "Add to meeting notes" shortcut: a notes form whose action items become tasks."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import ids
from bot.commands.common import NOT_LINKED, ephemeral_reply, reporting, services_of, tenant_of
from bot.domain.drafts import save_draft, take_draft, update_draft
from bot.domain.errors import N_, UserError
from bot.domain.meetings import (
    FIELD_PROJECT,
    FIELD_TITLE,
    MAX_MEETING_TITLE,
    MAX_NOTES,
    MeetingInvalid,
    MeetingView,
    NewActionItem,
    NewMeeting,
    create_meeting,
    list_meetings,
    set_meeting_card,
    set_meeting_source,
)
from bot.domain.projects import list_projects, project_for_channel
from bot.domain.records import project_today
from bot.domain.views import ProjectView
from bot.i18n import error_text, t
from bot.parsing import split_subcommand
from bot.services import Services
from bot.slack.blocks import MAX_INPUT, modal_errors, no_project_modal, text_blocks
from bot.slack.gateway import SlackGateway
from bot.slack.meeting_blocks import (
    MAX_MESSAGE_BLOCKS,
    meeting_form_errors,
    meeting_help_text,
    meeting_list_text,
    meeting_modal,
    meeting_summary,
    meeting_thread_reply,
    parse_meeting_form,
)
from bot.slack.payloads import MessageShortcut, SlashCommand, metadata_of
from bot.text import decode_slack_text, prefill
from storage.models import ProjectStatus

log = logging.getLogger(__name__)

CLOSED = N_("Project %(key)s is closed; reopen it to log new records.")


def open_meeting_form(
    services: Services,
    gateway: SlackGateway,
    *,
    team_id: str,
    locale: str,
    trigger_id: str,
    user_id: str,
    project: ProjectView | None,
    projects: list[ProjectView] | None = None,
    channel_id: str | None = None,
    title: str = "",
    notes: str = "",
    notice: str | None = None,
    draft: dict[str, Any] | None = None,
) -> str:
    """Open the form for ``project`` (or with a picker over ``projects``); returns the draft id."""
    now = services.now()
    with services.db.write() as session:
        draft_id = save_draft(
            session,
            team_id=team_id,
            data={
                "project_id": project.id if project else None,
                # Where the summary goes: the channel the form was opened from, when it belongs to the project.
                "channel_id": channel_id if project else None,
                "user_id": user_id,
                "locale": locale,
                **(draft or {}),
            },
            now=now,
        )
    timezone = project.timezone if project else services.default_timezone
    view = meeting_modal(
        locale=locale,
        metadata={"draft": draft_id},
        held_on=project_today(timezone, now),
        project=project,
        projects=projects or [],
        title=title,
        notes=notes,
        notice=notice,
    )
    sent = gateway.open_view(trigger_id=trigger_id, view=view)
    if not sent.ok:
        raise UserError(N_("I couldn't open the form (%(error)s). Please try again."), error=sent.error)
    return draft_id


# -- /meeting ------------------------------------------------------------------------------------------


def meeting_command(
    ack: Ack, body: dict[str, Any], respond: Any, client: WebClient, context: BoltContext
) -> None:
    ack()
    services = services_of(context)
    locale = [services.default_locale]
    reply = ephemeral_reply(respond)
    with reporting(reply, lambda: locale[0]):
        command = SlashCommand.model_validate(body)
        team_id = tenant_of(context)
        sub, rest = split_subcommand(command.text)
        if sub not in ("", "help", "new", "list"):
            raise UserError(
                N_("Unknown subcommand %(sub)s. Try %(command)s help."), sub=sub[:40], command=command.command
            )
        with services.db.read() as session:
            project = project_for_channel(session, team_id=team_id, channel_id=command.channel_id)
            meetings = (
                list_meetings(session, team_id=team_id, project_id=project.id)
                if project and sub == "list"
                else []
            )
        if project:
            locale[0] = project.locale
        if sub in ("", "help"):
            reply(meeting_help_text(locale[0]))
            return
        if project is None:
            raise UserError(NOT_LINKED)
        if sub == "list":
            reply(meeting_list_text(project.key, meetings, project.locale))
            return
        if project.status != ProjectStatus.ACTIVE:
            raise UserError(CLOSED, key=project.key)
        open_meeting_form(
            services, SlackGateway(client), team_id=team_id, locale=project.locale,
            trigger_id=command.trigger_id, user_id=command.user_id, project=project,
            channel_id=command.channel_id, title=decode_slack_text(rest).strip()[:MAX_MEETING_TITLE],
        )  # fmt: skip


# -- "Add to meeting notes" ----------------------------------------------------------------------------


def add_to_meeting_shortcut(
    ack: Ack, body: dict[str, Any], respond: Any, client: WebClient, context: BoltContext
) -> None:
    ack()
    services = services_of(context)
    locale = [services.default_locale]
    with reporting(ephemeral_reply(respond), lambda: locale[0]):
        shortcut = MessageShortcut.model_validate(body)
        team_id = tenant_of(context)
        gateway = SlackGateway(client)
        with services.db.read() as session:
            project = project_for_channel(session, team_id=team_id, channel_id=shortcut.channel.id)
            active = [p for p in list_projects(session, team_id=team_id) if p.status == ProjectStatus.ACTIVE]
        if project:
            locale[0] = project.locale
            if project.status != ProjectStatus.ACTIVE:
                raise UserError(CLOSED, key=project.key)
        if not active:
            gateway.open_view(
                trigger_id=shortcut.trigger_id,
                view=no_project_modal(locale[0]),
            )
            return
        message = shortcut.message
        _, text = prefill(message.text, message.file_names)
        full_text = text[:MAX_NOTES]
        shown = full_text[:MAX_INPUT]
        notices = []
        if len(text) > MAX_NOTES:
            notices.append(
                t(
                    locale[0],
                    "The message is longer than %(limit)s characters: only the first %(limit)s are kept in the notes.",
                    limit=MAX_NOTES,
                )
            )
        elif len(full_text) > MAX_INPUT:
            notices.append(
                t(
                    locale[0],
                    "The message is longer than %(limit)s characters: the form shows the start, and the whole text is saved.",
                    limit=MAX_INPUT,
                )
            )
        draft_id = open_meeting_form(
            services, gateway, team_id=team_id, locale=locale[0], trigger_id=shortcut.trigger_id,
            user_id=shortcut.user.id, project=project, projects=active, channel_id=shortcut.channel.id,
            notes=shown, notice=" ".join(notices) or None,
            draft={
                "full_text": full_text, "shown_text": shown, "message_ts": message.ts,
                "thread_root": shortcut.thread_root, "source_channel_id": shortcut.channel.id,
            },
        )  # fmt: skip
        # After the modal is open (its trigger expires in 3 s): the link back to the message.
        link = gateway.permalink(channel=shortcut.channel.id, ts=message.ts)
        if link:
            with services.db.write() as session:
                update_draft(session, team_id=team_id, draft_id=draft_id, changes={"permalink": link})


# -- submission ----------------------------------------------------------------------------------------


def _submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    services = services_of(context)
    team_id = tenant_of(context)
    user_id = str(body["user"]["id"])
    form = parse_meeting_form(view)
    draft_id = str(metadata_of(view).get("draft", ""))
    locale = services.default_locale
    try:
        with services.db.write() as session:
            draft = take_draft(session, team_id=team_id, draft_id=draft_id)
            if draft is None:
                raise UserError(N_("This form has expired. Please start again."), field=FIELD_TITLE)
            locale = draft.get("locale", locale)
            project_id = draft.get("project_id") or form.project_id
            if project_id is None:
                raise UserError(N_("Choose a project."), field=FIELD_PROJECT)
            notes = form.notes
            # Untouched, cut-down notes stand for the whole message.
            if draft.get("full_text") and notes == draft.get("shown_text"):
                notes = draft["full_text"]
            meeting = create_meeting(
                session,
                team_id=team_id,
                project_id=int(project_id),
                user_id=user_id,
                new=NewMeeting(
                    title=form.title,
                    held_on=form.held_on,
                    attendees=form.attendees,
                    notes=notes,
                    decisions=form.decisions,
                    items=[
                        NewActionItem(text=i.text, owner_id=i.owner_id, due_date=i.due_date, row=i.row)
                        for i in form.items
                    ],
                    source_url=draft.get("permalink"),
                ),
                now=services.now(),
            )
    except MeetingInvalid as invalid:
        errors = [(e.field, error_text(locale, e)) for e in invalid.errors]
        ack(**modal_errors(meeting_form_errors(view, errors)))
        return
    except UserError as error:
        ack(**modal_errors(meeting_form_errors(view, [(error.field, error_text(locale, error))])))
        return
    ack()
    gateway = SlackGateway(client)
    try:
        _after_save(services, gateway, meeting, draft, user_id)
    except Exception:
        log.exception("posting the summary of %s failed", meeting.key)
        gateway.dm(user=user_id, text=t(meeting.locale, "Saved meeting notes %(key)s.", key=meeting.key))


def _after_save(
    services: Services, gateway: SlackGateway, meeting: MeetingView, draft: dict[str, Any], user_id: str
) -> None:
    """Post the summary in the project's channel; reply in the message's thread when it came from one."""
    source_channel = draft.get("source_channel_id")
    if source_channel and draft.get("message_ts") and not meeting.source_url:
        link = gateway.permalink(channel=source_channel, ts=draft["message_ts"])
        if link:
            with services.db.write() as session:
                set_meeting_source(session, meeting_id=meeting.id, url=link)
    channel = draft.get("channel_id") or meeting.project_channel_id
    text, blocks = meeting_summary(meeting)
    error = "no_channel"
    if channel:
        sent = gateway.post(channel=channel, text=text, blocks=blocks)
        if sent.ok and sent.ts:
            with services.db.write() as session:
                set_meeting_card(session, meeting_id=meeting.id, channel_id=channel, ts=sent.ts)
        error = "" if sent.ok else str(sent.error)
    if source_channel and draft.get("message_ts"):
        replied = gateway.post(
            channel=source_channel,
            text=meeting_thread_reply(meeting, user_id=user_id),
            thread_ts=draft.get("thread_root") or draft["message_ts"],
        )
        if not replied.ok:
            log.warning("thread reply for %s failed: %s", meeting.key, replied.error)
    if error:
        notice = t(
            meeting.locale,
            "Saved meeting notes %(key)s, but I couldn't post the summary in the channel (%(error)s).",
            key=meeting.key,
            error=error,
        )
        gateway.dm(user=user_id, text=notice, blocks=(text_blocks(notice) + blocks)[:MAX_MESSAGE_BLOCKS])


def register(app: App) -> None:
    app.command(ids.CMD_MEETING)(meeting_command)
    app.message_shortcut(ids.SHORTCUT_ADD_TO_MEETING)(add_to_meeting_shortcut)
    app.view(ids.VIEW_MEETING)(_submit)
