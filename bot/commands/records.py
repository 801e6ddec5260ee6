"""``/req``, ``/issue``, ``/task`` and ``/risk``: one listener per command, the same verbs for every kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.record import deleted_blocks, record_detail_blocks, record_list_blocks
from bot.blocks.rendering import render
from bot.commands.common import Asked, answer_command
from bot.commands.guard import after_ack
from bot.domain import lifecycle
from bot.domain.errors import N_, UserError
from bot.domain.parsing import parse_record_key, parse_record_options, split_subcommand, tokens
from bot.domain.statuses import LIFECYCLES
from bot.features import record_steps as steps
from bot.features.record_cards import open_edit_form, open_record_form
from bot.i18n import t
from bot.i18n.labels import KIND_PLURALS, status_name
from bot.slack import ids
from bot.slack.text import decode_slack_text, mention, shorten
from storage.models import Kind

EXTRA_OPTIONS = {Kind.TASK: " [est:4h]", Kind.RISK: " [p:1-5] [i:1-5]"}
# Verbs every kind has, besides its own status moves.
COMMON_VERBS = ("new", "list", "show", "edit", "assign", "due", "comment", "delete", "close", "help")


def help_text(kind: Kind, locale: str) -> str:
    return render(
        "help_record.j2",
        locale,
        command=ids.COMMAND_FOR_KIND[kind],
        kind_plural=t(locale, KIND_PLURALS[kind]),
        extra_options=EXTRA_OPTIONS.get(kind, ""),
        moves=list(LIFECYCLES[kind].moves),
    )


def _by(req: Asked, kind: Kind) -> dict[str, Any]:
    """The kind, workspace and person a step on one record needs."""
    return {"kind": kind, "team_id": req.team_id, "user_id": req.command.user_id}


def _key_and_rest(rest: str, verb: str, command: str) -> tuple[str, str]:
    key, _, remainder = rest.strip().partition(" ")
    if not key:
        raise UserError(N_("Which record? Use %(command)s %(verb)s ACME-12."), command=command, verb=verb)
    parse_record_key(key)
    return key.upper(), remainder.strip()


def _new(req: Asked, kind: Kind, rest: str) -> None:
    if not rest:
        project = steps.channel_project(req.services, team_id=req.team_id, channel_id=req.command.channel_id)
        req.locale = project.locale
        open_record_form(
            req.services, req.gateway, team_id=req.team_id, kind=kind, locale=project.locale,
            trigger_id=req.command.trigger_id, channel_id=req.command.channel_id, user_id=req.command.user_id,
        )  # fmt: skip
        return
    logged = steps.log_record(req.services, req.gateway, rest=rest, kind=kind, **req.where())
    req.locale = logged.project.locale
    if logged.card_error:
        req.reply(
            t(
                req.locale,
                "Logged %(key)s, but I couldn't post its card here (%(error)s).",
                key=logged.record.key,
                error=logged.card_error,
            )
        )


def _list(req: Asked, kind: Kind, rest: str) -> None:
    scope = (rest.split() or ["open"])[0].lower()
    project, listing = steps.listing(req.services, scope=scope, kind=kind, **req.where())
    req.locale = project.locale
    req.reply_blocks(*record_list_blocks(listing, kind, project.key, req.locale))


def _show(req: Asked, kind: Kind, rest: str) -> None:
    key, _ = _key_and_rest(rest, "show", req.command.command)
    record, history = steps.detail(
        req.services, kind=kind, team_id=req.team_id, key=key, now=req.services.now()
    )
    req.locale = record.locale
    req.reply_blocks(*record_detail_blocks(record, history, record.locale))


def _edit(req: Asked, kind: Kind, rest: str) -> None:
    key, _ = _key_and_rest(rest, "edit", req.command.command)
    open_edit_form(
        req.services, req.gateway, team_id=req.team_id, key=key, kind=kind,
        user_id=req.command.user_id, trigger_id=req.command.trigger_id,
    )  # fmt: skip


def _confirm(req: Asked, change: lifecycle.Change, message: str, **params: Any) -> None:
    req.locale = change.record.locale
    if change.stale:
        req.reply(t(req.locale, lifecycle.LOST_RACE, key=change.record.key))
        return
    if not change.changed:
        req.reply(t(req.locale, "Nothing to change: %(key)s is already like that.", key=change.record.key))
        return
    req.reply(t(req.locale, message, key=change.record.key, **params))


def _assign(req: Asked, kind: Kind, rest: str) -> None:
    key, remainder = _key_and_rest(rest, "assign", req.command.command)
    options = parse_record_options(remainder, kind)
    words = [w.lower() for w in tokens(remainder)]
    if options.assignee_id is None and words not in (["me"], ["nobody"], ["none"]):
        raise UserError(
            N_("Who should it go to? Use %(command)s assign %(key)s @person."),
            command=req.command.command,
            key=key,
        )
    assignee = req.command.user_id if words == ["me"] else options.assignee_id
    change = steps.assign(req.services, req.gateway, key=key, assignee_id=assignee, **_by(req, kind))
    if assignee:
        _confirm(req, change, N_("%(key)s is now assigned to %(who)s."), who=mention(assignee))
    else:
        _confirm(req, change, N_("%(key)s is now unassigned."))


def _due(req: Asked, kind: Kind, rest: str) -> None:
    key, remainder = _key_and_rest(rest, "due", req.command.command)
    if not remainder:
        raise UserError(
            N_("Give a date: %(command)s due %(key)s 2026-12-01 (or friday, 下周五)."),
            command=req.command.command,
            key=key,
        )
    change = steps.set_due(req.services, req.gateway, key=key, due_text=remainder, **_by(req, kind))
    due = change.record.due_date.isoformat() if change.record.due_date else "—"
    _confirm(req, change, N_("%(key)s is now due %(date)s."), date=due)


def _comment(req: Asked, kind: Kind, rest: str) -> None:
    key, remainder = _key_and_rest(rest, "comment", req.command.command)
    record = steps.comment(req.services, key=key, text=remainder, **_by(req, kind))
    req.locale = record.locale
    req.reply(t(record.locale, "Comment added to %(key)s.", key=record.key))


def _delete(req: Asked, kind: Kind, rest: str) -> None:
    key, _ = _key_and_rest(rest, "delete", req.command.command)
    change = steps.delete(req.services, req.gateway, key=key, **_by(req, kind))
    req.locale = change.record.locale
    if change.stale:
        req.reply(t(req.locale, lifecycle.LOST_RACE, key=change.record.key))
        return
    req.reply_blocks(*deleted_blocks(change.record, change.record.locale))


def _move(req: Asked, kind: Kind, verb: str, rest: str) -> None:
    key, remainder = _key_and_rest(rest, verb, req.command.command)

    change = steps.move(req.services, req.gateway, key=key, verb=verb, remainder=remainder, **_by(req, kind))
    _confirm(
        req,
        change,
        N_("%(key)s is now %(status)s."),
        status=status_name(change.record.status, change.record.locale),
    )


HANDLERS: dict[str, Callable[[Asked, Kind, str], None]] = {
    "new": _new,
    "list": _list,
    "show": _show,
    "edit": _edit,
    "assign": _assign,
    "due": _due,
    "comment": _comment,
    "delete": _delete,
}


def _handle(
    kind: Kind, ack: Ack, body: dict[str, Any], respond: Any, client: WebClient, context: BoltContext
) -> None:
    ack()
    answer_command(body, respond, client, context, lambda req: _dispatch(kind, req))


def _dispatch(kind: Kind, req: Asked) -> None:
    command = req.command
    sub, rest = split_subcommand(command.text)
    if sub in ("", "help"):
        locale = steps.help_locale(req.services, team_id=req.team_id, channel_id=command.channel_id)
        req.reply(help_text(kind, locale or req.locale))
    elif sub in HANDLERS:
        HANDLERS[sub](req, kind, rest)
    elif sub == "close" or sub in LIFECYCLES[kind].moves:
        _move(req, kind, sub, rest)
    else:
        raise UserError(
            N_("Unknown subcommand %(sub)s. Try %(command)s help."),
            sub=shorten(decode_slack_text(sub), 40),
            command=command.command,
        )


def _listener(kind: Kind) -> Callable[..., None]:
    def listener(
        ack: Ack, body: dict[str, Any], respond: Any, client: WebClient, context: BoltContext
    ) -> None:
        _handle(kind, ack, body, respond, client, context)

    listener.__name__ = f"{kind.value}_command"
    return after_ack(listener, in_place=_opens_a_form)


def _opens_a_form(body: dict[str, Any]) -> bool:
    """``new`` without a title and ``edit`` open a form: they run before the ``trigger_id`` expires."""
    sub, rest = split_subcommand(str(body.get("text") or ""))
    return (sub == "new" and not rest.strip()) or sub == "edit"


def register(app: App) -> None:
    for command, kind in ids.RECORD_COMMANDS.items():
        app.command(command)(_listener(kind))
