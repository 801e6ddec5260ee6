"""The "new record" modal: opened by a command with no title or by a message shortcut; submitted here."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import ids
from bot.commands.common import services_of, tenant_of
from bot.domain.drafts import save_draft, take_draft
from bot.domain.errors import N_, UserError
from bot.domain.projects import list_projects
from bot.domain.records import NewRecord, create_record, set_source
from bot.flows import post_record_card, reply_logged_in_thread
from bot.i18n import error_text, t
from bot.services import Services
from bot.slack.blocks import modal_errors, record_modal
from bot.slack.gateway import SlackGateway
from bot.slack.payloads import metadata_of, parse_record_form
from storage.models import Kind, Priority, ProjectStatus

log = logging.getLogger(__name__)


def open_record_form(
    services: Services,
    gateway: SlackGateway,
    *,
    team_id: str,
    kind: Kind,
    locale: str,
    trigger_id: str,
    channel_id: str | None,
    user_id: str,
    selected_project_id: int | None = None,
    title: str = "",
    description: str = "",
    notice: str | None = None,
    draft: dict[str, Any] | None = None,
) -> str:
    """Open the form; returns the draft id that the submission will find its context under."""
    with services.db.write() as session:
        projects = [p for p in list_projects(session, team_id=team_id) if p.status == ProjectStatus.ACTIVE]
        draft_id = save_draft(
            session,
            team_id=team_id,
            data={
                "kind": kind.value,
                "channel_id": channel_id,
                "user_id": user_id,
                "locale": locale,
                **(draft or {}),
            },
            now=services.now(),
        )
    if selected_project_id is None and channel_id:
        selected_project_id = next((p.id for p in projects if p.channel_id == channel_id), None)
    view = record_modal(
        kind=kind,
        locale=locale,
        projects=projects,
        selected_project_id=selected_project_id,
        metadata={"draft": draft_id},
        title=title,
        description=description,
        notice=notice,
    )
    sent = gateway.open_view(trigger_id=trigger_id, view=view)
    if not sent.ok:
        raise UserError(N_("I couldn't open the form (%(error)s). Please try again."), error=sent.error)
    return draft_id


def _submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    services = services_of(context)
    team_id = tenant_of(context)
    user_id = body["user"]["id"]
    form = parse_record_form(view)
    draft_id = str(metadata_of(view).get("draft", ""))
    locale = services.default_locale
    try:
        with services.db.write() as session:
            draft = take_draft(session, team_id=team_id, draft_id=draft_id)
            if draft is None:
                raise UserError(N_("This form has expired. Please start again."), field=ids.BLOCK_TITLE)
            locale = draft.get("locale", locale)
            if form.project_id is None:
                raise UserError(N_("Choose a project."), field=ids.BLOCK_PROJECT)
            description = form.description
            full_text = draft.get("full_text")
            # An untouched, cut-down description stands for the whole message.
            if full_text and description == draft.get("shown_text"):
                description = full_text
            new = NewRecord(
                kind=Kind(draft["kind"]),
                title=form.title,
                description=description,
                assignee_id=form.assignee_id,
                due_date=form.due_date,
                priority=Priority(form.priority) if form.priority else None,
                requester_id=draft.get("author_id"),
                source_url=draft.get("permalink"),
                source_channel_id=draft.get("source_channel_id"),
                source_ts=draft.get("message_ts"),
            )
            record = create_record(
                session,
                team_id=team_id,
                project_id=form.project_id,
                user_id=user_id,
                new=new,
                now=services.now(),
            )
    except UserError as error:
        ack(**modal_errors({error.field or ids.BLOCK_TITLE: error_text(locale, error)}))
        return
    ack()
    gateway = SlackGateway(client)
    try:
        if draft.get("message_ts"):
            _confirm_from_message(services, gateway, record, draft, user_id)
        else:
            channel = draft.get("channel_id") or record.project_channel_id
            sent = post_record_card(services, gateway, record, channel=channel) if channel else None
            if sent is None or not sent.ok:
                gateway.dm(user=user_id, text=t(record.locale, "Logged %(key)s.", key=record.key))
    except Exception:
        log.exception("confirming %s failed", record.key)
        gateway.dm(user=user_id, text=t(record.locale, "Logged %(key)s.", key=record.key))


def _confirm_from_message(
    services: Services, gateway: SlackGateway, record: Any, draft: dict[str, Any], user_id: str
) -> None:
    channel = draft["source_channel_id"]
    if not record.source_url:
        link = gateway.permalink(channel=channel, ts=draft["message_ts"])
        if link:
            with services.db.write() as session:
                set_source(session, record_id=record.id, url=link)
    sent = reply_logged_in_thread(
        gateway, record, channel=channel, thread_ts=draft["thread_root"], user_id=user_id
    )
    if not sent.ok:
        gateway.dm(
            user=user_id,
            text=t(
                record.locale,
                "Logged %(key)s. I couldn't reply in the message's thread (%(error)s); invite me to the channel to see replies there.",
                key=record.key,
                error=sent.error,
            ),
        )


def register(app: App) -> None:
    app.view(ids.VIEW_NEW_RECORD)(_submit)
