"""Customer intake as its listeners (``bot/commands/intake.py``) call it: messages of linked channels, the intake
emoji, and the triage card's buttons (see that module for what each does).

Transactions are opened here, each closed before Slack is asked anything.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from slack_sdk import WebClient

from bot.blocks import intake as texts
from bot.domain import intake
from bot.domain.acknowledgements import is_acknowledgement
from bot.domain.customers import Actor, Organisation, classify, is_internal, learn_contact
from bot.domain.people import person_locale
from bot.features.record_cards import reply_logged_in_thread
from bot.i18n import t
from bot.jobs.intake import redraw_triage_cards, send_triage_card
from bot.slack.gateway import SlackGateway
from bot.slack.services import Services
from storage.models import Kind

log = logging.getLogger("aftercare.listeners.intake")
DEFAULT_EMOJI = "ticket"


class Clicker(Protocol):
    """Who clicked a triage card's button, in which language, and how to answer only them."""

    @property
    def user_id(self) -> str: ...
    @property
    def locale(self) -> str: ...
    @property
    def gateway(self) -> SlackGateway: ...
    def tell(self, text: str) -> None: ...


def _tell(services: Services, gateway: SlackGateway, *, team_id: str, channel: str, user: str,
          locale: str, message: str, **params: Any) -> None:  # fmt: skip
    """A private note (``message`` is a catalogue id) in the person's language: ephemeral, else by DM."""
    locale = person_locale(services.db, team_id=team_id, user_id=user, default=locale)
    gateway.tell_privately(channel=channel, user=user, text=t(locale, message, **params))


# -- messages ---------------------------------------------------------------------------------------------


def take_message(
    services: Services, client: WebClient, org: Organisation, event: dict[str, Any], *, bot_user_id: str | None,
    actor_team_id: str | None, actor_enterprise_id: str | None,
) -> None:  # fmt: skip
    """A message of a linked channel: kept, its author learnt, a first response noted, or intake as the
    project's ``intake`` setting says."""
    team_id = org.team_id
    channel = str(event.get("channel") or "")
    if not channel or event.get("channel_type") in ("im", "mpim"):
        return
    with services.db.read() as session:
        project = intake.intake_project(session, team_id=team_id, channel_id=channel)
    if project is None:
        return
    subtype = event.get("subtype")
    if subtype == "message_changed":
        edited = event.get("message") or {}
        with services.db.write() as session:
            intake.edit_message(
                session, team_id=team_id, channel_id=channel, ts=str(edited.get("ts") or ""), message=edited
            )
        return
    if subtype == "message_deleted":
        with services.db.write() as session:
            intake.delete_message(
                session, team_id=team_id, channel_id=channel, ts=str(event.get("deleted_ts") or "")
            )
        return
    if subtype not in (*intake.PERSON_SUBTYPES, "bot_message") or not event.get("ts"):
        return  # joins, topic changes and the like
    message = intake.Message.of(channel, event, bot_user_id=bot_user_id)
    internal: bool | None = None
    if not message.is_bot and message.user_id:
        actor = Actor(message.user_id, actor_team_id, actor_enterprise_id)
        internal = classify(services, client, org, actor, project_id=project.id)
    author = message.user_id

    def learn(session: Any) -> None:
        if internal is False and author and not message.is_bot:
            learn_contact(session, project_id=project.id, user_id=author)

    stored = intake.store_message(
        services.db, team_id=team_id, project_id=project.id, message=message, internal=internal,
        now=services.now(), learn=learn,
    )  # fmt: skip
    if not stored or message.is_bot or not author:
        return  # a retried event, or a bot's message: never intake
    if message.is_reply:
        if internal:
            with services.db.write() as session:
                intake.note_reply(
                    session,
                    team_id=team_id,
                    channel_id=channel,
                    thread_ts=str(message.thread_ts),
                    ts=message.ts,
                )
        return
    if internal is not False or not project.active or project.intake == "off":
        return
    if is_acknowledgement(message.text) and not message.file_name:
        return
    gateway = SlackGateway(client)
    if project.intake == "auto":
        _log(services, gateway, project, message, kind=Kind.ISSUE, created_by=bot_user_id or "",
             requester_external=True)  # fmt: skip
        return
    with services.db.write() as session:
        first = intake.suggest(session, team_id=team_id, channel_id=channel, ts=message.ts)
    if first:
        send_triage_card(
            services, project, message, permalink=gateway.permalink(channel=channel, ts=message.ts)
        )


def _log(
    services: Services, gateway: SlackGateway, project: intake.IntakeProject, message: intake.Message, *,
    kind: Kind, created_by: str, requester_external: bool | None,
) -> intake.Logged:  # fmt: skip
    """Log the message (once), reply in its thread with the key, redraw its triage cards."""
    permalink = gateway.permalink(channel=message.channel_id, ts=message.ts)
    logged = intake.log_from_message(
        services.db, team_id=project.team_id, project_id=project.id, message=message, kind=kind,
        created_by=created_by, requester_external=requester_external, source_url=permalink, now=services.now(),
        untitled=t(project.locale, texts.UNTITLED),
    )  # fmt: skip
    if logged.record is not None:
        sent = reply_logged_in_thread(
            gateway,
            logged.record,
            channel=message.channel_id,
            thread_ts=message.thread_root,
            user_id=created_by,
        )
        if not sent.ok:
            log.warning("could not reply in the thread of %s: %s", logged.record.key, sent.error)
    redraw_triage_cards(
        services,
        gateway,
        team_id=project.team_id,
        channel=message.channel_id,
        ts=message.ts,
        permalink=permalink,
    )
    return logged


# -- the intake emoji ---------------------------------------------------------------------------------------


def _message_from_slack(
    client: WebClient, channel: str, ts: str, bot_user_id: str | None
) -> intake.Message | str:
    """The message as ``reactions.get`` gives it (https://docs.slack.dev/reference/methods/reactions.get), or
    Slack's error."""
    try:
        response = client.reactions_get(channel=channel, timestamp=ts, full=True)
    except Exception as exc:
        error = getattr(getattr(exc, "response", None), "get", lambda *_: None)("error")
        return str(error or type(exc).__name__)
    message = response.get("message")
    if not isinstance(message, dict):
        return "message_not_found"
    return intake.Message.of(channel, message, bot_user_id=bot_user_id)


def take_reaction(
    services: Services, client: WebClient, org: Organisation, event: dict[str, Any], *, bot_user_id: str | None,
    actor_team_id: str | None, actor_enterprise_id: str | None,
) -> None:  # fmt: skip
    """The intake emoji on a message, by an internal person: log it, reply in its thread with the key."""
    item = event.get("item") or {}
    reactor = event.get("user")
    if item.get("type") != "message" or not isinstance(reactor, str):
        return
    team_id = org.team_id
    channel, ts = str(item.get("channel") or ""), str(item.get("ts") or "")
    reaction = str(event.get("reaction") or "")
    gateway = SlackGateway(client)
    with services.db.read() as session:
        project = intake.intake_project(session, team_id=team_id, channel_id=channel)
    emoji = project.intake_emoji if project else DEFAULT_EMOJI
    if reaction.split("::", 1)[0] != emoji:
        return
    actor = Actor(reactor, actor_team_id, actor_enterprise_id)
    if not is_internal(services, client, org, actor, project_id=project.id if project else None):
        return  # a customer's reaction logs nothing, and is not answered
    locale = project.locale if project else services.default_locale

    def note(message: str, **params: Any) -> None:
        _tell(services, gateway, team_id=team_id, channel=channel, user=reactor, locale=locale, message=message,
              **params)  # fmt: skip

    if project is None:
        note(texts.NOTE_NOT_LINKED)
        return
    if event.get("item_user") and event.get("item_user") == bot_user_id:
        note(texts.NOTE_OWN_MESSAGE)
        return
    if not project.active:
        note(texts.NOTE_CLOSED, key=project.key)
        return
    with services.db.read() as session:
        existing = intake.key_for_message(session, team_id=team_id, channel_id=channel, ts=ts)
        message: intake.Message | str | None = intake.stored_message(
            session, team_id=team_id, channel_id=channel, ts=ts
        )
    if existing:
        note(texts.NOTE_ALREADY, key=existing)
        return
    if message is None:
        message = _message_from_slack(client, channel, ts, bot_user_id)
    if isinstance(message, str):
        note(texts.NOTE_UNREADABLE, error=message)
        return
    if message.is_bot:
        note(texts.NOTE_OWN_MESSAGE)
        return
    external: bool | None = None
    if message.user_id:
        external = not is_internal(services, client, org, Actor(message.user_id), project_id=project.id)
    logged = _log(services, gateway, project, message, kind=Kind.ISSUE, created_by=reactor,
                  requester_external=external)  # fmt: skip
    if logged.existing:
        note(texts.NOTE_ALREADY, key=logged.existing)


# -- the triage card ---------------------------------------------------------------------------------------------


def triage(
    services: Services, click: Clicker, client: WebClient, org: Organisation, *, kind: Kind | None, channel: str,
    ts: str,
) -> None:  # fmt: skip
    """Log as ``kind`` (``None``: ignore) the message a triage card stands for; every copy is redrawn."""
    team_id = org.team_id
    with services.db.read() as session:
        project = intake.intake_project(session, team_id=team_id, channel_id=channel)
        message = intake.stored_message(session, team_id=team_id, channel_id=channel, ts=ts)
    locale = click.locale
    if kind is None:
        with services.db.write() as session:
            state = intake.ignore(session, team_id=team_id, channel_id=channel, ts=ts, user_id=click.user_id,
                                  now=services.now())  # fmt: skip
        redraw_triage_cards(services, click.gateway, team_id=team_id, channel=channel, ts=ts)
        if state.state == intake.LOGGED and state.key:
            click.tell(t(locale, texts.NOTE_ALREADY, key=state.key))
        return
    if project is None or message is None:
        click.tell(t(locale, "That message is no longer there, or its channel is no longer linked."))
        return
    if not project.active:
        click.tell(t(locale, texts.NOTE_CLOSED, key=project.key))
        return
    external: bool | None = None
    if message.user_id:
        external = not is_internal(services, client, org, Actor(message.user_id), project_id=project.id)
    logged = _log(services, click.gateway, project, message, kind=kind, created_by=click.user_id,
                  requester_external=external)  # fmt: skip
    if logged.existing:
        click.tell(t(locale, texts.NOTE_ALREADY, key=logged.existing))
