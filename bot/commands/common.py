"""What every listener shares: the preamble of a slash command (:func:`answer_command`), a button click
(:func:`on_click`) and a form submission (:func:`submitted`), the services and tenant, and reporting errors
after ``ack()`` (the guard, ``bot.commands.guard``, apologises for anything else)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks.basics import no_project_modal
from bot.domain.errors import LOCALE_NOTE, UserError, spoken
from bot.domain.people import person_locale
from bot.domain.views import ProjectView
from bot.features.shortcut_steps import shortcut_projects
from bot.i18n import error_text
from bot.slack.gateway import SlackGateway
from bot.slack.payloads import MessageShortcut, SlashCommand, metadata_of
from bot.slack.services import Services

log = logging.getLogger("aftercare.listeners")

Reply = Callable[[str], None]


def services_of(context: BoltContext) -> Services:
    services = context.get("services")
    if not isinstance(services, Services):
        raise RuntimeError("services missing from the Bolt context")
    return services


def tenant_of(context: BoltContext) -> str:
    """The workspace a request belongs to; every read and write is scoped to it."""
    team = context.team_id or context.enterprise_id
    if not team:
        raise UserError("This request has no workspace.")
    return str(team)


def ephemeral_reply(respond: Callable[..., Any]) -> Reply:
    """Reply only the person sees, through the request's ``response_url``."""

    def reply(text: str) -> None:
        try:
            respond(text=text, response_type="ephemeral", replace_original=False)
        except Exception:
            log.exception("could not reply through response_url")

    return reply


@contextmanager
def reporting(reply: Reply, locale: Callable[[], str]) -> Iterator[None]:
    """Tell the person what they got wrong (a :class:`UserError`) through ``reply``, in ``locale()``.

    ``locale`` is read when an error happens, so it can follow the project once known.
    Any other error goes on to the listener guard (``bot.commands.guard``), which logs it
    and apologises in the language noted on it here.
    """
    try:
        yield
    except UserError as error:
        reply(error_text(spoken(error, locale()), error, in_message=True))
    except Exception as error:
        if not getattr(error, LOCALE_NOTE, None):  # a feature step may have noted it (``speaking``)
            with suppress(Exception):  # the locale itself may need what just failed
                setattr(error, LOCALE_NOTE, locale())
        raise


@dataclass
class Asked:
    """A slash command, parsed once: who asked, in which workspace and channel, how to answer only them."""

    services: Services
    command: SlashCommand
    team_id: str
    # The Grid organisation (Bolt's context), stored with a new project so jobs find its installation.
    enterprise_id: str | None
    gateway: SlackGateway
    reply: Reply
    # Bolt's respond, for replies with blocks (only the person sees them).
    respond: Callable[..., Any]
    # Follows the channel's project once it is known (errors are reported in it too).
    locale: str

    def reply_blocks(self, text: str, blocks: list[dict[str, Any]]) -> None:
        self.respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    def where(self) -> dict[str, str]:
        """The workspace, channel and person a step of the channel's project needs."""
        return {
            "team_id": self.team_id,
            "channel_id": self.command.channel_id,
            "user_id": self.command.user_id,
        }


def answer_command(
    body: dict[str, Any],
    respond: Callable[..., Any],
    client: WebClient,
    context: BoltContext,
    handle: Callable[[Asked], None],
) -> None:
    """The preamble of every slash command (after its ``ack()``): parse it, then ``handle`` it; a
    :class:`UserError` is answered privately in the request's language, anything else goes on to the guard."""
    services = services_of(context)
    reply = ephemeral_reply(respond)
    request: Asked | None = None
    with reporting(reply, lambda: request.locale if request else services.default_locale):
        request = Asked(
            services=services,
            command=SlashCommand.model_validate(body),
            team_id=tenant_of(context),
            enterprise_id=context.enterprise_id,
            gateway=SlackGateway(client),
            reply=reply,
            respond=respond,
            locale=services.default_locale,
        )
        handle(request)


def tell_clicker(body: dict[str, Any], respond: Callable[..., Any]) -> Reply:
    """Answer only the person who clicked: ephemeral through the response_url (App Home has none: say nothing)."""

    def tell(text: str) -> None:
        if body.get("response_url"):
            try:
                respond(text=text, response_type="ephemeral", replace_original=False)
            except Exception:
                log.exception("could not reply through response_url")

    return tell


@dataclass
class Click:
    """A button click: who, in which workspace, where, in which language, and how to answer only them.

    ``locale`` starts as the clicker's own and follows what the handler learns (the survey's, the nudge's).
    """

    services: Services
    team_id: str
    user_id: str
    gateway: SlackGateway
    locale: str
    tell: Reply
    # The message the button is on ("" in App Home or a modal).
    channel: str
    ts: str
    # Bolt's respond: replaces the clicked message when it is ephemeral.
    respond: Callable[..., Any]


def clicked(
    body: dict[str, Any], respond: Callable[..., Any], client: WebClient, context: BoltContext
) -> Click:
    services = services_of(context)
    team_id = tenant_of(context)
    user_id = str(body["user"]["id"])
    locale = person_locale(services.db, team_id=team_id, user_id=user_id, default=services.default_locale)
    container = body.get("container") or {}
    return Click(
        services=services,
        team_id=team_id,
        user_id=user_id,
        gateway=SlackGateway(client),
        locale=locale,
        tell=tell_clicker(body, respond),
        channel=str(container.get("channel_id") or (body.get("channel") or {}).get("id") or ""),
        ts=str(container.get("message_ts") or ""),
        respond=respond,
    )


@dataclass(frozen=True)
class Submission:
    """A form submitted: by whom, in which workspace, and what the form carried in its metadata."""

    services: Services
    team_id: str
    user_id: str
    gateway: SlackGateway
    meta: dict[str, Any]


def submitted(
    body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> Submission:
    return Submission(
        services=services_of(context),
        team_id=tenant_of(context),
        user_id=str(body["user"]["id"]),
        gateway=SlackGateway(client),
        meta=metadata_of(view),
    )


@dataclass
class Shortcut:
    """A message shortcut: the message, who and where, the projects its form can offer, in which language."""

    services: Services
    team_id: str
    payload: MessageShortcut
    gateway: SlackGateway
    # The channel's project, if any, and every active project of the workspace (the form's picker).
    project: ProjectView | None
    active: list[ProjectView]
    # The channel's project's language, else the default; errors are reported in it too.
    locale: str

    def no_project_form(self) -> bool:
        """With no active project to log into, say so in a form instead; true when it did."""
        if self.active:
            return False
        self.gateway.open_view(trigger_id=self.payload.trigger_id, view=no_project_modal(self.locale))
        return True


def answer_shortcut(
    body: dict[str, Any],
    respond: Callable[..., Any],
    client: WebClient,
    context: BoltContext,
    handle: Callable[[Shortcut], None],
) -> None:
    """The preamble of every message shortcut (after its ``ack()``): parse it, find the projects, then
    ``handle`` it; a :class:`UserError` is answered privately in the request's language."""
    services = services_of(context)
    request: Shortcut | None = None
    with reporting(ephemeral_reply(respond), lambda: request.locale if request else services.default_locale):
        payload = MessageShortcut.model_validate(body)
        team_id = tenant_of(context)
        project, active = shortcut_projects(services, team_id=team_id, channel_id=payload.channel.id)
        request = Shortcut(
            services=services, team_id=team_id, payload=payload, gateway=SlackGateway(client), project=project,
            active=active, locale=project.locale if project else services.default_locale,
        )  # fmt: skip
        handle(request)


ClickHandler = Callable[[Click, dict[str, Any], dict[str, Any]], None]


def on_click(handle: ClickHandler) -> Callable[..., None]:
    """A button's listener: ``ack()``, the :class:`Click`, then ``handle(click, body, action)``.

    A :class:`UserError` is told to the clicker in ``click.locale`` as it then stands; anything else goes
    on to the guard (``bot.commands.guard``), which apologises.
    """

    def listener(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Callable[..., Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        ack()
        click = clicked(body, respond, client, context)
        with reporting(click.tell, lambda: click.locale):
            handle(click, body, action)

    listener.__name__ = handle.__name__
    listener.__qualname__ = handle.__qualname__
    listener.__doc__ = handle.__doc__
    return listener
