"""What intake posts: the triage card (through the delivery ledger, where internal posts go) and the one line
a record's source thread gets about a change.

The triage card of a message is claimed under ``triage:<team>:<channel>:<ts>`` (``:<owner>`` for each DM copy
when internal posts go to the owners), so a retried event never posts it twice; when someone acts on it, every
copy that was posted is redrawn in place with the outcome (``chat.update``).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from bot.blocks.intake import thread_update, triage_card
from bot.delivery.audience import SharedChannels
from bot.delivery.base import DeliveryKind, JobContext, Outgoing
from bot.delivery.runner import Runner, job_client_factory
from bot.domain.intake import IntakeProject, Message, triage_of
from bot.domain.lifecycle import Change
from bot.slack.gateway import SlackGateway
from bot.slack.services import Services
from storage import ledger
from storage.models import ChannelMessage, DeliveryStatus, MemberRole, Project, ProjectMember, Record

log = logging.getLogger(__name__)


def triage_key(team_id: str, channel: str, ts: str) -> str:
    return f"{DeliveryKind.TRIAGE}:{team_id}:{channel}:{ts}"


def _no_wait(_seconds: float) -> None:
    """Never sleep in a listener: a rate-limited card stays pending for the next run."""


def send_triage_card(
    services: Services, project: IntakeProject, message: Message, *, permalink: str | None
) -> None:
    """Claim and send the card now, where internal posts go; what fails stays with the ledger."""
    text, blocks = triage_card(
        locale=project.locale, project_key=project.key, author=message.user_id, channel=message.channel_id,
        ts=message.ts, text=message.text, file_name=message.file_name, permalink=permalink,
    )  # fmt: skip
    item = Outgoing(
        key=triage_key(project.team_id, message.channel_id, message.ts), team_id=project.team_id,
        kind=DeliveryKind.TRIAGE, text=text, blocks=blocks, report_project_id=project.id, project_id=project.id,
    )  # fmt: skip
    runner = Runner(services, job_client_factory(services), sleep=_no_wait)
    ctx = JobContext(now=services.now(), team_id=project.team_id)
    runner.run([lambda _session, _ctx: [item]], ctx, kinds=[DeliveryKind.TRIAGE])


def redraw_triage_cards(
    services: Services,
    gateway: SlackGateway,
    *,
    team_id: str,
    channel: str,
    ts: str,
    permalink: str | None = None,
) -> int:
    """Redraw every posted copy of a message's triage card with its outcome; returns how many."""
    with services.db.read() as session:
        copies = [
            d
            for d in ledger.with_prefix(session, prefix=triage_key(team_id, channel, ts))
            if d.status == DeliveryStatus.SENT and d.ts
        ]
        if not copies:
            return 0
        state = triage_of(session, team_id=team_id, channel_id=channel, ts=ts)
        row = session.scalar(
            select(ChannelMessage).where(
                ChannelMessage.team_id == team_id,
                ChannelMessage.channel_id == channel,
                ChannelMessage.ts == ts,
            )
        )
        project = session.get(Project, row.project_id) if row and row.project_id else None
    if row is None or project is None:
        return 0
    text, blocks = triage_card(
        locale=project.locale, project_key=project.key, author=row.user_id, channel=channel, ts=ts, text=row.text,
        file_name=row.file_name, permalink=permalink or _permalink_in(copies[0].payload), state=state.state,
        key=state.key, decided_by=state.decided_by,
    )  # fmt: skip
    done = 0
    for copy in copies:
        sent = gateway.update(
            channel=copy.sent_channel or copy.channel, ts=str(copy.ts), text=text, blocks=blocks
        )
        done += int(sent.ok)
    return done


def _permalink_in(payload: dict[str, Any]) -> str | None:
    """The message's permalink as the card showed it (its context block ``<url|…>``)."""
    for block in payload.get("blocks") or []:
        if block.get("type") == "context":
            text = str((block.get("elements") or [{}])[0].get("text") or "")
            if text.startswith("<http") and "|" in text:
                return text[1 : text.index("|")]
    return None


# -- thread updates ----------------------------------------------------------------------------------------


def tell_thread(services: Services, gateway: SlackGateway, change: Change) -> None:
    """One line in the record's source thread about a status change, an assignment or a new due date
    (project setting ``thread_updates``); in a channel shared with the customer, the key and status only."""
    if not (change.changed and (change.new_status or change.newly_assigned or change.due_changed)):
        return
    view = change.record
    with services.db.read() as session:
        record = session.get(Record, view.id)
        project = session.get(Project, view.project_id) if record else None
        if record is None or project is None or not project.thread_updates:
            return
        if not record.source_channel_id or not record.source_ts:
            return
        channel, source_ts = record.source_channel_id, record.source_ts
        parent = session.scalar(
            select(ChannelMessage.thread_ts).where(
                ChannelMessage.team_id == record.team_id, ChannelMessage.channel_id == channel,
                ChannelMessage.ts == source_ts,
            )
        )  # fmt: skip
        contacts = list(
            session.scalars(
                select(ProjectMember.user_id).where(
                    ProjectMember.project_id == project.id, ProjectMember.role == MemberRole.CUSTOMER_CONTACT
                )
            )
        )
        locale = project.locale
    shared = SharedChannels(services, lambda _team: gateway.client).is_shared(
        view.team_id, channel, contacts=contacts
    )
    text = thread_update(
        locale=locale, key=view.key, status=view.status, shared=shared, new_status=change.new_status,
        assignee=change.newly_assigned, due=view.due_date, due_changed=change.due_changed,
    )  # fmt: skip
    if text:
        sent = gateway.post(channel=channel, text=text, thread_ts=parent or source_ts)
        if not sent.ok:
            log.warning("thread update of %s not posted: %s", view.key, sent.error)
