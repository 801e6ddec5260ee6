"""``/project``: create, link and unlink channels, list, status, settings, close and reopen."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.basics import modal_errors
from bot.blocks.closure import CLOSE_FIELDS, close_modal, docs_message, parse_close_form
from bot.blocks.project import change_labels, settings_modal, status_text
from bot.blocks.rendering import render
from bot.blocks.survey import started_text
from bot.commands.common import Asked, answer_command, services_of, tenant_of
from bot.domain.errors import N_, UserError, spoken
from bot.domain.parsing import parse_project_key, split_subcommand
from bot.domain.project_settings import FORM_FIELD, InvalidSettings
from bot.domain.retrospective import check_closing_text
from bot.domain.surveys import KIND_ON_DEMAND
from bot.features import project_steps as steps
from bot.features.channels import DM_REFUSAL
from bot.features.closure import close_and_report
from bot.features.survey_people import learn_who_is_asked  # who is of another organisation (card, not DM)
from bot.i18n import apology, error_text, t
from bot.slack import ids
from bot.slack.gateway import SlackGateway
from bot.slack.payloads import SlashCommand, metadata_of
from bot.slack.text import decode_slack_text

log = logging.getLogger(__name__)

PLANNED: frozenset[str] = frozenset()


def _refuse_direct_message(command: SlashCommand) -> None:
    if command.in_direct_message:
        raise UserError(DM_REFUSAL)


def _no_options(sub: str, rest: str) -> None:
    if rest:
        raise UserError(N_("/project %(verb)s takes no options."), verb=sub)


def _new(req: Asked, rest: str) -> None:
    command = req.command
    _refuse_direct_message(command)
    key_text, _, name = rest.partition(" ")
    if not key_text:
        raise UserError(N_("Give a key and a name: /project new ACME Acme Corp after-sales"))
    key = parse_project_key(key_text)
    project = steps.new_project(
        req.services, req.gateway, team_id=req.team_id, enterprise_id=req.enterprise_id, key=key,
        name=decode_slack_text(name).strip(), channel_id=command.channel_id, user_id=command.user_id,
    )  # fmt: skip
    text = render(
        "project_created.j2", project.locale, user_id=command.user_id, key=project.key, name=project.name
    )
    sent = req.gateway.post(channel=command.channel_id, text=text)
    if not sent.ok:
        req.reply(text)


def _link(req: Asked, rest: str) -> None:
    key_text, _, extra = rest.partition(" ")
    if not key_text:
        raise UserError(N_("Name the project to link: /project link ACME"))
    if extra.strip():
        raise UserError(N_("Give just the project key: /project link ACME"))
    key = parse_project_key(key_text.upper())
    _refuse_direct_message(req.command)
    project = steps.link_project(
        req.services, req.gateway, team_id=req.team_id, key=key, channel_id=req.command.channel_id,
        user_id=req.command.user_id,
    )  # fmt: skip
    req.locale = project.locale
    req.reply(render("project_linked.j2", project.locale, key=project.key, name=project.name))


def _unlink(req: Asked, rest: str) -> None:
    _no_options("unlink", rest)
    result = steps.unlink_project(req.services, **req.where())
    project = result.project
    req.locale = project.locale
    req.reply(
        render(
            "project_unlinked.j2",
            project.locale,
            key=project.key,
            name=project.name,
            channel_id=result.channel_id,
            was_main=result.was_main,
        )
    )


def _status(req: Asked, rest: str) -> None:
    _no_options("status", rest)
    project, snapshot = steps.channel_status(req.services, **req.where())
    req.locale = project.locale
    req.reply(status_text(snapshot, project.locale, internal=snapshot.internal))


def _digest(req: Asked, rest: str) -> None:
    """A preview of the channel's project's next digest, only to the person who asked."""
    _no_options("digest", rest)
    project, preview = steps.digest_preview(req.services, **req.where())
    req.locale = project.locale
    for text, blocks in preview.messages:
        req.reply_blocks(text, blocks)


def _settings(req: Asked, rest: str) -> None:
    _no_options("settings", rest)
    project, settings = steps.settings_to_edit(req.services, **req.where())
    req.locale = project.locale
    view = settings_modal(
        project=project,
        settings=settings,
        locale=project.locale,
        metadata={"project_id": project.id, "channel_id": req.command.channel_id},
    )
    _open(req, view)


def _open(req: Asked, view: dict[str, Any]) -> None:
    req.gateway.open_form(trigger_id=req.command.trigger_id, view=view)


def _close(req: Asked, rest: str) -> None:
    """Owners and admins only: a modal asks for the closing summary and lessons learned; closing is on submit."""
    _no_options("close", rest)
    project, preview = steps.project_to_close(req.services, **req.where())
    req.locale = project.locale
    view = close_modal(
        project=project,
        locale=project.locale,
        metadata={"project_id": project.id, "channel_id": req.command.channel_id},
        preview=preview,
    )
    _open(req, view)


def _reopen(req: Asked, rest: str) -> None:
    _no_options("reopen", rest)
    project = steps.reopen(req.services, **req.where())
    req.locale = project.locale
    text = render(
        "project_reopened.j2", project.locale, user_id=req.command.user_id, key=project.key, name=project.name
    )
    sent = req.gateway.post(channel=req.command.channel_id, text=text)
    if not sent.ok:
        req.reply(text)


def _docs(req: Asked, rest: str) -> None:
    """The project's documents: retrospective reports, meeting notes, records' source messages."""
    _no_options("docs", rest)
    index, summaries = steps.documents(req.services, req.gateway, **req.where())
    text, blocks = docs_message(index, summaries)
    req.reply_blocks(text, blocks)


def _survey(req: Asked, rest: str) -> None:
    """Start a survey of the channel's project now (owners and admins); the DMs follow in working hours."""
    _no_options("survey", rest)
    started = steps.start_survey(req.services, **req.where())
    req.locale = started.locale
    text = started_text(
        key=started.project_key, name=started.project_name, kind=KIND_ON_DEMAND, count=started.recipients,
        closes_at=started.closes_at, timezone=started.timezone, locale=started.locale,
    )  # fmt: skip
    req.reply(text)
    learn_who_is_asked(req.services, req.gateway.client, survey_id=started.id)


def project_command(
    ack: Ack, body: dict[str, Any], respond: Any, client: WebClient, context: BoltContext
) -> None:
    ack()
    answer_command(body, respond, client, context, _dispatch)


def _list(req: Asked, rest: str) -> None:
    projects = steps.all_projects(req.services, team_id=req.team_id)
    req.reply(render("project_list.j2", req.locale, projects=projects))


SUBCOMMANDS: dict[str, Callable[[Asked, str], None]] = {
    "new": _new, "link": _link, "unlink": _unlink, "list": _list, "status": _status, "settings": _settings,
    "digest": _digest, "close": _close, "reopen": _reopen, "docs": _docs, "survey": _survey,
}  # fmt: skip


def _dispatch(req: Asked) -> None:
    sub, rest = split_subcommand(req.command.text)
    if sub in ("", "help"):
        req.reply(render("project_help.j2", req.locale))
    elif sub in SUBCOMMANDS:
        SUBCOMMANDS[sub](req, rest)
    elif sub in PLANNED:
        raise UserError(N_("/project %(verb)s is not available in this version yet."), verb=sub)
    else:
        raise UserError(N_("Unknown subcommand %(sub)s. Try /project help."), sub=sub[:40])


# -- the settings modal ----------------------------------------------------------------------


def settings_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Validate and save what can be checked here, each problem next to its field; then ack.

    No Slack call comes before the ack (Slack waits 3 seconds for it, and the form can only show
    errors in that answer: https://docs.slack.dev/surfaces/modals#handling_submissions). A new
    report channel is asked about afterwards, and set only when Slack says it is internal; the
    confirmation only the person sees says what was saved and why a channel was refused.
    """
    services = services_of(context)
    team_id = tenant_of(context)
    user_id = str(body["user"]["id"])
    meta = metadata_of(view)
    try:
        submitted = steps.save_settings_form(
            services, team_id=team_id, project_id=int(meta.get("project_id", 0)), user_id=user_id, view=view
        )
    except InvalidSettings as invalid:
        locale = spoken(invalid, services.default_locale)
        ack(**modal_errors({_block(e): error_text(locale, e) for e in invalid.errors}))
        return
    except UserError as error:
        ack(**modal_errors({_block(error): error_text(spoken(error, services.default_locale), error)}))
        return
    ack()
    gateway = SlackGateway(client)
    saved, refused = steps.vouch_report_channel(
        services, gateway, submitted, team_id=team_id, user_id=user_id
    )
    project = saved.project
    text = render(
        "project_settings_saved.j2",
        project.locale,
        key=project.key,
        name=project.name,
        changes=change_labels(saved.changes, project.locale),
    )
    if refused is not None:
        reason = error_text(project.locale, refused)
        text += "\n" + t(project.locale, "The report channel was not changed: %(reason)s", reason=reason)
    channel_id = meta.get("channel_id")
    gateway.tell_privately(channel=str(channel_id) if channel_id else None, user=user_id, text=text)


def _block(error: UserError) -> str:
    """The modal block an error belongs to (the owners block when it names none)."""
    name = FORM_FIELD.get(error.field or "", error.field or "owners")
    return name if name in ids.SETTINGS_FIELDS else "owners"


# -- the closing modal ---------------------------------------------------------------------


def close_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Validate and ack at once (no Slack call, no report built before ``ack()``); then close the project,
    deliver its report and tell the person where it went (:func:`bot.features.closure.close_and_report`)."""
    services = services_of(context)
    locale = services.default_locale
    try:
        team_id = tenant_of(context)
        user_id = str(body["user"]["id"])
        meta = metadata_of(view)
        project_id = int(meta.get("project_id", 0))
        project = steps.closable_project(services, team_id=team_id, project_id=project_id, user_id=user_id)
        locale = project.locale
        summary, lessons = check_closing_text(*parse_close_form(view))
    except UserError as error:
        block = CLOSE_FIELDS.get(error.field or "", ids.BLOCK_CLOSE_SUMMARY)
        ack(**modal_errors({block: error_text(spoken(error, locale), error)}))
        return
    except Exception as error:
        ack(**modal_errors({ids.BLOCK_CLOSE_SUMMARY: apology(spoken(error, locale), "closing a project")}))
        return
    ack()
    close_and_report(
        services,
        SlackGateway(client),
        team_id=team_id,
        project_id=project_id,
        project_key=project.key,
        user_id=user_id,
        channel_id=meta.get("channel_id"),
        summary=summary,
        lessons=lessons,
        locale=locale,
    )


def register(app: App) -> None:
    app.command(ids.CMD_PROJECT)(project_command)
    app.view(ids.VIEW_PROJECT_SETTINGS)(settings_submitted)
    app.view(ids.VIEW_CLOSE_PROJECT)(close_submitted)
