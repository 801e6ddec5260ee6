"""Record forms: "new record" (from a command, a message shortcut or the global shortcut) and "edit record"."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import ids
from bot.commands.common import reporting, services_of, tenant_of
from bot.domain import lifecycle
from bot.domain.drafts import take_draft
from bot.domain.errors import N_, UserError
from bot.domain.people import locale_of
from bot.domain.projects import find_active_projects, list_projects
from bot.domain.records import NewRecord, create_record, set_source
from bot.domain.views import RecordView
from bot.flows import after_change, open_record_form, post_record_card, reply_logged_in_thread
from bot.i18n import error_text, t
from bot.parsing import parse_estimate
from bot.services import Services
from bot.slack import limits
from bot.slack.blocks import modal_errors, no_project_modal
from bot.slack.gateway import SlackGateway
from bot.slack.payloads import RecordForm, metadata_of, parse_record_form
from bot.slack.project_picker import project_options
from storage.models import Kind, Priority, ProjectStatus

log = logging.getLogger(__name__)


def _kind_fields(form: RecordForm) -> dict[str, Any]:
    return {
        "estimate_hours": parse_estimate(form.estimate) if form.estimate else None,
        "probability": form.probability,
        "impact": form.impact,
        "mitigation": form.mitigation,
    }


def _submit_new(
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
                kind=Kind(draft.get("kind") or form.kind or Kind.ISSUE),
                title=form.title,
                description=description,
                assignee_id=form.assignee_id,
                due_date=form.due_date,
                priority=Priority(form.priority) if form.priority else None,
                requester_id=draft.get("author_id"),
                source_url=draft.get("permalink"),
                source_channel_id=draft.get("source_channel_id"),
                source_ts=draft.get("message_ts"),
                **_kind_fields(form),
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
        ack(**modal_errors({_block_of(error): error_text(locale, error)}))
        return
    ack()
    gateway = SlackGateway(client)
    try:
        if draft.get("message_ts"):
            _confirm_from_message(services, gateway, record, draft, user_id)
        elif draft.get("global"):
            _confirm_by_dm(services, gateway, record, user_id, card=True)
        else:
            channel = draft.get("channel_id") or record.project_channel_id
            sent = post_record_card(services, gateway, record, channel=channel) if channel else None
            if sent is None or not sent.ok:
                _confirm_by_dm(services, gateway, record, user_id, card=False)
        if record.assignee_id:
            after_change(
                services, gateway, lifecycle.Change(record, newly_assigned=record.assignee_id), actor=user_id
            )
    except Exception:
        log.exception("confirming %s failed", record.key)
        gateway.dm(user=user_id, text=t(record.locale, "Logged %(key)s.", key=record.key))


def _confirm_by_dm(
    services: Services, gateway: SlackGateway, record: RecordView, user_id: str, *, card: bool
) -> None:
    with services.db.read() as session:
        locale = locale_of(session, team_id=record.team_id, user_id=user_id, default=record.locale)
    text = t(locale, "Logged %(key)s.", key=record.key)
    if card and record.project_channel_id:
        sent = post_record_card(services, gateway, record, channel=record.project_channel_id)
        if sent.ok:
            text = t(
                locale,
                "Logged %(key)s and posted it in <#%(channel)s>.",
                key=record.key,
                channel=record.project_channel_id,
            )
    gateway.dm(user=user_id, text=text)


def _confirm_from_message(
    services: Services, gateway: SlackGateway, record: RecordView, draft: dict[str, Any], user_id: str
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


def _submit_edit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    services = services_of(context)
    team_id = tenant_of(context)
    user_id = body["user"]["id"]
    form = parse_record_form(view)
    key = str(metadata_of(view).get("key", ""))
    locale = services.default_locale
    try:
        values = lifecycle.RecordEdit(
            title=form.title,
            description=form.description,
            assignee_id=form.assignee_id,
            due_date=form.due_date,
            priority=Priority(form.priority or Priority.MEDIUM),
            **_kind_fields(form),
        )
        change = lifecycle.change_once(
            services.db, team_id=team_id, key=key,
            apply=lambda session: lifecycle.edit(
                session, team_id=team_id, key=key, values=values, user_id=user_id, now=services.now()
            ),
        )  # fmt: skip
    except UserError as error:
        ack(**modal_errors({_block_of(error): error_text(locale, error)}))
        return
    if change.stale:
        ack(
            **modal_errors(
                {ids.BLOCK_TITLE: t(change.record.locale, lifecycle.LOST_RACE, key=change.record.key)}
            )
        )
        return
    ack()
    after_change(services, SlackGateway(client), change, actor=user_id)


def _block_of(error: UserError) -> str:
    return {"description": ids.BLOCK_DESCRIPTION, "estimate": ids.BLOCK_ESTIMATE}.get(
        error.field or "", error.field or ids.BLOCK_TITLE
    )


def global_shortcut(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """The global "new record" shortcut: the same form with a kind and a project to pick, confirmed by DM."""
    ack()
    services = services_of(context)
    team_id = tenant_of(context)
    user_id = str(body["user"]["id"])
    gateway = SlackGateway(client)
    with services.db.read() as session:
        locale = locale_of(session, team_id=team_id, user_id=user_id, default=services.default_locale)
        has_projects = any(p.status == ProjectStatus.ACTIVE for p in list_projects(session, team_id=team_id))

    def tell(text: str) -> None:
        # A global shortcut has no channel and no response_url: problems are told by DM.
        gateway.dm(user=user_id, text=text)

    with reporting(tell, lambda: locale):
        if not has_projects:
            gateway.open_view(
                trigger_id=body["trigger_id"],
                view=no_project_modal(locale),
            )
            return
        open_record_form(
            services, gateway, team_id=team_id, kind=None, locale=locale, trigger_id=body["trigger_id"],
            channel_id=None, user_id=user_id, draft={"global": True},
        )  # fmt: skip


def project_suggestions(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Options of the project picker when a workspace has more than a static select holds.

    Slack sends a ``block_suggestion`` as the person types and shows what we answer within 3 seconds:
    open projects of this workspace with every typed word in their key or name, at most 100.
    https://api.slack.com/reference/interaction-payloads/block-suggestion
    """
    services = services_of(context)
    try:
        team_id = tenant_of(context)
        with services.db.read() as session:
            found = find_active_projects(
                session, team_id=team_id, text=str(body.get("value") or ""), limit=limits.SELECT_OPTIONS
            )
    except Exception:
        log.exception("project suggestions failed")
        found = []
    ack(**project_options(found))


def register(app: App) -> None:
    app.options(ids.ACTION_PROJECT)(project_suggestions)
    app.view(ids.VIEW_NEW_RECORD)(_submit_new)
    app.view(ids.VIEW_EDIT_RECORD)(_submit_edit)
    app.shortcut(ids.SHORTCUT_NEW_RECORD)(global_shortcut)
