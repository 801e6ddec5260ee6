"""The steps of ``/meeting`` and "Add to meeting notes", each one call for its listener (``bot/commands/meeting.py``):
open the notes form over a stored draft, save the submitted form as a meeting with its tasks, post its summary.

Transactions are opened here, never across a Slack call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.blocks.basics import text_blocks
from bot.blocks.meeting import (
    MAX_MESSAGE_BLOCKS,
    MeetingForm,
    meeting_modal,
    meeting_summary,
    meeting_thread_reply,
)
from bot.domain.drafts import save_draft, submitted_draft
from bot.domain.errors import N_, UserError, speaking
from bot.domain.meetings import (
    FIELD_PROJECT,
    FIELD_TITLE,
    MeetingView,
    NewActionItem,
    NewMeeting,
    create_meeting,
    list_meetings,
    set_meeting_card,
    set_meeting_source,
)
from bot.domain.projects import project_for_channel
from bot.domain.records import project_today
from bot.domain.views import ProjectView
from bot.i18n import t
from bot.slack.gateway import SlackGateway
from bot.slack.services import Services

log = logging.getLogger(__name__)


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
    gateway.open_form(trigger_id=trigger_id, view=view)
    return draft_id


def channel_meetings(
    services: Services, *, team_id: str, channel_id: str, listing: bool
) -> tuple[ProjectView | None, list[MeetingView]]:
    """The channel's project, and its meetings when ``listing``."""
    with services.db.read() as session:
        project = project_for_channel(session, team_id=team_id, channel_id=channel_id)
        meetings = (
            list_meetings(session, team_id=team_id, project_id=project.id) if project and listing else []
        )
    return project, meetings


@dataclass(frozen=True)
class SavedMeeting:
    meeting: MeetingView
    draft: dict[str, Any]


def save_meeting(
    services: Services, *, team_id: str, user_id: str, draft_id: str, form: MeetingForm
) -> SavedMeeting:
    """The submitted form as a meeting with its tasks; raises ``MeetingInvalid`` / ``UserError``, noted with
    the draft's language."""
    with services.db.write() as session:
        draft = submitted_draft(session, team_id=team_id, draft_id=draft_id, field=FIELD_TITLE)
        with speaking(draft.get("locale", services.default_locale)):
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
    return SavedMeeting(meeting=meeting, draft=draft)


def publish(services: Services, gateway: SlackGateway, saved: SavedMeeting, *, user_id: str) -> None:
    """After the ack: the summary and the thread reply; on failure the person hears by DM that it was saved."""
    meeting = saved.meeting
    try:
        after_save(services, gateway, meeting, saved.draft, user_id)
    except Exception:
        log.exception("posting the summary of %s failed", meeting.key)
        gateway.dm(user=user_id, text=t(meeting.locale, "Saved meeting notes %(key)s.", key=meeting.key))


def after_save(
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
