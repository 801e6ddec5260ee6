"""Record forms: "new record" (from a command, a message shortcut or the global shortcut) and "edit record"."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.basics import modal_errors, no_project_modal
from bot.blocks.project_picker import project_options
from bot.commands.common import Submission, reporting, services_of, submitted, tenant_of
from bot.domain import lifecycle
from bot.domain.errors import UserError, spoken
from bot.features import record_forms as forms
from bot.features.record_cards import after_change, open_record_form
from bot.i18n import error_text, t
from bot.slack import ids, limits
from bot.slack.gateway import SlackGateway
from bot.slack.payloads import parse_record_form

log = logging.getLogger(__name__)


def _submit_new(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    sub = submitted(body, view, client, context)
    form = parse_record_form(view)
    try:
        saved = forms.save_new_record(
            sub.services, team_id=sub.team_id, user_id=sub.user_id, draft_id=str(sub.meta.get("draft", "")),
            form=form,
        )  # fmt: skip
    except UserError as error:
        _refuse(ack, sub, error)
        return
    ack()
    forms.confirm_new_record(sub.services, sub.gateway, saved, user_id=sub.user_id)


def _submit_edit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    sub = submitted(body, view, client, context)
    form = parse_record_form(view)
    key = str(sub.meta.get("key", ""))
    try:
        change = forms.edit_record(sub.services, team_id=sub.team_id, user_id=sub.user_id, key=key, form=form)
    except UserError as error:
        _refuse(ack, sub, error)
        return
    if change.stale:
        ack(
            **modal_errors(
                {ids.BLOCK_TITLE: t(change.record.locale, lifecycle.LOST_RACE, key=change.record.key)}
            )
        )
        return
    ack()
    after_change(sub.services, sub.gateway, change, actor=sub.user_id)


def _refuse(ack: Ack, sub: Submission, error: UserError) -> None:
    """The form stays open with the problem next to its field, in the language the error was noted in."""
    ack(**modal_errors({_block_of(error): error_text(spoken(error, sub.services.default_locale), error)}))


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
    locale, has_projects = forms.shortcut_start(services, team_id=team_id, user_id=user_id)

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
        found = forms.suggested_projects(
            services, team_id=team_id, typed=str(body.get("value") or ""), limit=limits.SELECT_OPTIONS
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
