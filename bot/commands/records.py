"""``/req``, ``/issue``, ``/task`` and ``/risk``: one listener per command, the same verbs for every kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot import ids
from bot.commands.common import Reply, ephemeral_reply, reporting, services_of, tenant_of
from bot.commands.guard import after_ack
from bot.domain import lifecycle
from bot.domain.errors import N_, UserError
from bot.domain.listing import list_records, record_detail
from bot.domain.projects import project_for_channel
from bot.domain.records import NewRecord, create_record
from bot.domain.statuses import LIFECYCLES
from bot.domain.views import ProjectView
from bot.flows import after_change, open_edit_form, open_record_form, post_record_card
from bot.i18n import t
from bot.labels import KIND_PLURALS, status_name
from bot.parsing import parse_record_key, parse_record_options, split_subcommand, tokens
from bot.rendering import render
from bot.services import Services
from bot.slack.gateway import SlackGateway
from bot.slack.payloads import SlashCommand
from bot.slack.record_blocks import deleted_blocks, record_detail_blocks, record_list_blocks
from bot.text import decode_slack_text, mention, shorten
from storage.models import Kind

EXTRA_OPTIONS = {Kind.TASK: " [est:4h]", Kind.RISK: " [p:1-5] [i:1-5]"}
# Verbs every kind has, besides its own status moves.
COMMON_VERBS = ("new", "list", "show", "edit", "assign", "due", "comment", "delete", "close", "help")

NOT_LINKED = N_(
    "This channel isn't linked to a project yet. Create one here with /project new ACME Acme Corp after-sales."
)


def help_text(kind: Kind, locale: str) -> str:
    return render(
        "help_record.j2",
        locale,
        command=ids.COMMAND_FOR_KIND[kind],
        kind_plural=t(locale, KIND_PLURALS[kind]),
        extra_options=EXTRA_OPTIONS.get(kind, ""),
        moves=list(LIFECYCLES[kind].moves),
    )


@dataclass
class Request:
    """One slash command, parsed, with what its handlers need."""

    kind: Kind
    command: SlashCommand
    team_id: str
    services: Services
    gateway: SlackGateway
    reply: Reply
    reply_blocks: Callable[[str, list[dict[str, Any]]], None]
    locale: str

    def project(self) -> ProjectView:
        with self.services.db.read() as session:
            return self.project_in(session)

    def project_in(self, session: Session) -> ProjectView:
        """The channel's project, read in ``session`` (the caller's transaction)."""
        project = project_for_channel(session, team_id=self.team_id, channel_id=self.command.channel_id)
        if project is None:
            raise UserError(NOT_LINKED)
        self.locale = project.locale
        return project


def _key_and_rest(rest: str, verb: str, command: str) -> tuple[str, str]:
    key, _, remainder = rest.strip().partition(" ")
    if not key:
        raise UserError(N_("Which record? Use %(command)s %(verb)s ACME-12."), command=command, verb=verb)
    parse_record_key(key)
    return key.upper(), remainder.strip()


def _new(req: Request, rest: str) -> None:
    if not rest:
        project = req.project()
        open_record_form(
            req.services, req.gateway, team_id=req.team_id, kind=req.kind, locale=project.locale,
            trigger_id=req.command.trigger_id, channel_id=req.command.channel_id, user_id=req.command.user_id,
        )  # fmt: skip
        return
    # One transaction for the whole record (the project looked up in it): one commit per /issue new.
    with req.services.db.write() as session:
        project = req.project_in(session)
        options = parse_record_options(rest, req.kind)
        new = NewRecord(
            kind=req.kind,
            title=options.title,
            assignee_id=options.assignee_id,
            due_text=options.due_text,
            priority=options.priority,
            estimate_hours=options.estimate_hours,
            probability=options.probability,
            impact=options.impact,
        )
        record = create_record(
            session, team_id=req.team_id, project_id=project.id, user_id=req.command.user_id, new=new,
            now=req.services.now(),
        )  # fmt: skip
    sent = post_record_card(req.services, req.gateway, record, channel=req.command.channel_id)
    if not sent.ok:
        req.reply(
            t(
                project.locale,
                "Logged %(key)s, but I couldn't post its card here (%(error)s).",
                key=record.key,
                error=sent.error,
            )
        )
    if record.assignee_id:
        after_change(
            req.services,
            req.gateway,
            lifecycle.Change(record, newly_assigned=record.assignee_id),
            actor=req.command.user_id,
        )


def _list(req: Request, rest: str) -> None:
    project = req.project()
    scope = (rest.split() or ["open"])[0].lower()
    with req.services.db.read() as session:
        listing = list_records(
            session, team_id=req.team_id, project_id=project.id, kind=req.kind, scope=scope,
            user_id=req.command.user_id, now=req.services.now(),
        )  # fmt: skip
    req.reply_blocks(*record_list_blocks(listing, req.kind, project.key, req.locale))


def _show(req: Request, rest: str) -> None:
    key, _ = _key_and_rest(rest, "show", req.command.command)
    with req.services.db.read() as session:
        record, history = record_detail(
            session, team_id=req.team_id, key=key, kind=req.kind, now=req.services.now()
        )
    req.locale = record.locale
    req.reply_blocks(*record_detail_blocks(record, history, record.locale))


def _edit(req: Request, rest: str) -> None:
    key, _ = _key_and_rest(rest, "edit", req.command.command)
    open_edit_form(
        req.services, req.gateway, team_id=req.team_id, key=key, kind=req.kind,
        user_id=req.command.user_id, trigger_id=req.command.trigger_id,
    )  # fmt: skip


def _confirm(req: Request, change: lifecycle.Change, message: str, **params: Any) -> None:
    req.locale = change.record.locale
    if change.stale:
        req.reply(t(req.locale, lifecycle.LOST_RACE, key=change.record.key))
        return
    if not change.changed:
        req.reply(t(req.locale, "Nothing to change: %(key)s is already like that.", key=change.record.key))
        return
    after_change(req.services, req.gateway, change, actor=req.command.user_id)
    req.reply(t(req.locale, message, key=change.record.key, **params))


def _assign(req: Request, rest: str) -> None:
    key, remainder = _key_and_rest(rest, "assign", req.command.command)
    options = parse_record_options(remainder, req.kind)
    words = [w.lower() for w in tokens(remainder)]
    if options.assignee_id is None and words not in (["me"], ["nobody"], ["none"]):
        raise UserError(
            N_("Who should it go to? Use %(command)s assign %(key)s @person."),
            command=req.command.command,
            key=key,
        )
    assignee = req.command.user_id if words == ["me"] else options.assignee_id
    change = lifecycle.change_once(
        req.services.db, team_id=req.team_id, key=key,
        apply=lambda session: lifecycle.assign(
            session, team_id=req.team_id, key=key, assignee_id=assignee, user_id=req.command.user_id,
            now=req.services.now(), kind=req.kind,
        ),
    )  # fmt: skip
    if assignee:
        _confirm(req, change, N_("%(key)s is now assigned to %(who)s."), who=mention(assignee))
    else:
        _confirm(req, change, N_("%(key)s is now unassigned."))


def _due(req: Request, rest: str) -> None:
    key, remainder = _key_and_rest(rest, "due", req.command.command)
    if not remainder:
        raise UserError(
            N_("Give a date: %(command)s due %(key)s 2026-12-01 (or friday, 下周五)."),
            command=req.command.command,
            key=key,
        )
    change = lifecycle.change_once(
        req.services.db, team_id=req.team_id, key=key,
        apply=lambda session: lifecycle.set_due(
            session, team_id=req.team_id, key=key, due_text=remainder, user_id=req.command.user_id,
            now=req.services.now(), kind=req.kind,
        ),
    )  # fmt: skip
    due = change.record.due_date.isoformat() if change.record.due_date else "—"
    _confirm(req, change, N_("%(key)s is now due %(date)s."), date=due)


def _comment(req: Request, rest: str) -> None:
    key, remainder = _key_and_rest(rest, "comment", req.command.command)
    with req.services.db.write() as session:
        record = lifecycle.comment(
            session, team_id=req.team_id, key=key, text=decode_slack_text(remainder), user_id=req.command.user_id,
            now=req.services.now(), kind=req.kind,
        )  # fmt: skip
    req.locale = record.locale
    req.reply(t(record.locale, "Comment added to %(key)s.", key=record.key))


def _delete(req: Request, rest: str) -> None:
    key, _ = _key_and_rest(rest, "delete", req.command.command)
    change = lifecycle.change_once(
        req.services.db, team_id=req.team_id, key=key,
        apply=lambda session: lifecycle.delete(
            session, team_id=req.team_id, key=key, user_id=req.command.user_id, now=req.services.now(),
            kind=req.kind,
        ),
    )  # fmt: skip
    req.locale = change.record.locale
    if change.stale:
        req.reply(t(req.locale, lifecycle.LOST_RACE, key=change.record.key))
        return
    after_change(req.services, req.gateway, change, actor=req.command.user_id)
    req.reply_blocks(*deleted_blocks(change.record, change.record.locale))


def _move(req: Request, verb: str, rest: str) -> None:
    key, remainder = _key_and_rest(rest, verb, req.command.command)

    def apply(session: Session) -> lifecycle.Change:
        change = lifecycle.move(
            session, team_id=req.team_id, key=key, verb=verb, user_id=req.command.user_id,
            now=req.services.now(), kind=req.kind,
        )  # fmt: skip
        if req.kind is Kind.RISK and verb == "mitigate" and remainder:
            change = lifecycle.set_mitigation(
                session, team_id=req.team_id, key=key, plan=decode_slack_text(remainder), user_id=req.command.user_id,
                now=req.services.now(), previous=change,
            )  # fmt: skip
        return change

    change = lifecycle.change_once(req.services.db, team_id=req.team_id, key=key, apply=apply)
    _confirm(
        req,
        change,
        N_("%(key)s is now %(status)s."),
        status=status_name(change.record.status, change.record.locale),
    )


HANDLERS: dict[str, Callable[[Request, str], None]] = {
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
    services = services_of(context)
    reply = ephemeral_reply(respond)

    def reply_blocks(text: str, blocks: list[dict[str, Any]]) -> None:
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    req: Request | None = None
    with reporting(reply, lambda: req.locale if req else services.default_locale):
        command = SlashCommand.model_validate(body)
        req = Request(
            kind,
            command,
            tenant_of(context),
            services,
            SlackGateway(client),
            reply,
            reply_blocks,
            services.default_locale,
        )
        sub, rest = split_subcommand(command.text)
        if sub in ("", "help"):
            with services.db.read() as session:
                project = project_for_channel(session, team_id=req.team_id, channel_id=command.channel_id)
            reply(help_text(kind, project.locale if project else req.locale))
        elif sub in HANDLERS:
            HANDLERS[sub](req, rest)
        elif sub == "close" or sub in LIFECYCLES[kind].moves:
            _move(req, sub, rest)
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
