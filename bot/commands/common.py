"""What every listener shares: the services, the tenant, and reporting errors after ``ack()``."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import BoltContext

from bot.domain.errors import UserError
from bot.i18n import error_text, t
from bot.services import Services

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
    """Turn errors after ``ack()`` into a message the person sees; never swallow them.

    ``locale`` is read when an error happens, so it can follow the project once known.
    """
    try:
        yield
    except UserError as error:
        reply(error_text(locale(), error))
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception("listener failed (ref %s)", ref)
        reply(
            t(
                locale(),
                "Sorry, something went wrong on our side (ref %(ref)s). Please try again in a moment.",
                ref=ref,
            )
        )
