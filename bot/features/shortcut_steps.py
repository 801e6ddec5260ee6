"""What every message shortcut's form needs ("Log as issue", "Create task", "Add to meeting notes"): the projects
to offer, and, once the form is open, the link back to the message kept in its draft."""

from __future__ import annotations

from dataclasses import dataclass

from bot.blocks.basics import MAX_INPUT
from bot.domain.drafts import update_draft
from bot.domain.projects import list_projects, project_for_channel
from bot.domain.views import ProjectView
from bot.i18n import t
from bot.slack.gateway import SlackGateway
from bot.slack.payloads import MessageShortcut
from bot.slack.services import Services
from bot.slack.text import prefill
from storage.models import ProjectStatus


def shortcut_projects(
    services: Services, *, team_id: str, channel_id: str
) -> tuple[ProjectView | None, list[ProjectView]]:
    """The channel's project (if any) and every active project of the workspace, for the form's picker."""
    with services.db.read() as session:
        project = project_for_channel(session, team_id=team_id, channel_id=channel_id)
        active = [p for p in list_projects(session, team_id=team_id) if p.status == ProjectStatus.ACTIVE]
    return project, active


def link_source(services: Services, gateway: SlackGateway, shortcut: MessageShortcut, *, team_id: str,
                draft_id: str) -> None:  # fmt: skip
    """After the form is open (its trigger expires in 3 s): the link back to the message, kept in the draft."""
    link = gateway.permalink(channel=shortcut.channel.id, ts=shortcut.message.ts)
    if link:
        with services.db.write() as session:
            update_draft(session, team_id=team_id, draft_id=draft_id, changes={"permalink": link})


@dataclass(frozen=True)
class Prefilled:
    """A form filled from a message: its title, the text saved, the start the form shows, what to tell."""

    title: str
    full_text: str
    shown: str
    notice: str | None


def prefilled(shortcut: MessageShortcut, locale: str, *, keep: int | None = None) -> Prefilled:
    """The message's text for a form: the whole of it saved (at most ``keep`` characters), the start shown
    (a text input holds at most ``MAX_INPUT``), and a note when the form cannot show or keep it all."""
    title, text = prefill(shortcut.message.text, shortcut.message.file_names)
    full_text = text[:keep] if keep is not None else text
    notice = None
    if keep is not None and len(text) > keep:
        notice = t(
            locale,
            "The message is longer than %(limit)s characters: only the first %(limit)s are kept in the notes.",
            limit=keep,
        )
    elif len(full_text) > MAX_INPUT:
        notice = t(
            locale,
            "The message is longer than %(limit)s characters: the form shows the start, and the whole text is saved.",
            limit=MAX_INPUT,
        )
    return Prefilled(title, full_text, full_text[:MAX_INPUT], notice)
