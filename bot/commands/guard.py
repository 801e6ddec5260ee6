"""One guard around every listener: the ack is never lost, every error reaches the person privately.

Every listener module registers through :func:`guarding`, so whatever a listener
does — a slash command, a button, a form, a shortcut, an event or an options
request — an unexpected error gets the apology (logged under a reference) and a
:class:`UserError` its message, only to the person who acted. A request not yet
acknowledged is acknowledged in the way its kind needs, so Slack never sees an
HTTP 500 and the person never waits 3 seconds for "that didn't work".

Bolt's own global error handler (``app.error``, :func:`on_unhandled_error`) only
sees what fails outside a listener (a middleware): it logs, apologises the same
way and answers 200.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.context.respond import Respond
from slack_bolt.kwargs_injection import Args
from slack_sdk import WebClient

from bot.blocks.basics import notice_modal
from bot.domain.errors import LOCALE_NOTE, UserError
from bot.domain.people import person_locale
from bot.i18n import apology, error_text
from bot.slack.gateway import SlackGateway
from bot.slack.services import Services

log = logging.getLogger("aftercare.listeners")

# The registration methods of a Bolt app whose functions are listeners.
LISTENER_KINDS = frozenset(
    {
        "command", "action", "block_action", "view", "view_submission", "view_closed", "shortcut",
        "global_shortcut", "message_shortcut", "event", "message", "options", "block_suggestion",
    }
)  # fmt: skip


def guarding(app: App) -> App:
    """``app`` as the listener modules see it: every listener they register is wrapped by :func:`guarded`."""
    return _GuardedApp(app)  # type: ignore[return-value]


class _GuardedApp:
    def __init__(self, app: App) -> None:
        self._app = app

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._app, name)
        if name not in LISTENER_KINDS:
            return method

        # FaaS (process_before_response): nothing may run after the response, so nothing is deferred.
        defer = not self._app.process_before_response

        def register(*args: Any, **kwargs: Any) -> Callable[..., Any]:
            decorator = method(*args, **kwargs)

            def add(*functions: Callable[..., Any], **named: Any) -> Any:
                if named:  # ack=..., lazy=[...]
                    guarded_named = {
                        key: [guarded(f, defer=defer) for f in value]
                        if isinstance(value, list)
                        else guarded(value, defer=defer)
                        for key, value in named.items()
                    }
                    return decorator(**guarded_named)
                return decorator(*[guarded(f, defer=defer) for f in functions])

            return add

        return register


# Set by :func:`after_ack` on a listener whose whole body may run after a plain ``ack()``: the value
# tells, from the request's body, when it must run in place all the same (it opens a form).
AFTER_ACK = "__aftercare_after_ack__"


def after_ack(
    fn: Callable[..., Any], *, in_place: Callable[[dict[str, Any]], bool] = lambda body: False
) -> Callable[..., Any]:
    """Mark ``fn`` (a listener that answers with a plain ``ack()`` before anything else) to run after the ack.

    The guard acknowledges at once and hands the body to the post-ack queue (``Services.after_ack``),
    so the listener thread is free for the next request while the body writes and posts. The
    body's own ``ack()`` then changes nothing (Slack already has its answer). A request for which
    ``in_place(body)`` is true runs in the listener thread as before: a form must open within the
    3 seconds its ``trigger_id`` lives, so it does not wait behind a queue.
    """
    setattr(fn, AFTER_ACK, in_place)
    return fn


def guarded(fn: Callable[..., Any], *, defer: bool = True) -> Callable[[Args], Any]:
    """``fn`` with Bolt's arguments as it names them; whatever it raises is told to the person, never to Bolt.

    A listener marked :func:`after_ack` runs after its ack in the post-ack queue, any other on the listener pool
    (``Services.listeners``), unless ``defer`` is false (an app with ``process_before_response``, as on FaaS,
    finishes everything before answering).
    """
    names = inspect.getfullargspec(fn).args

    def run(args: Args) -> Any:
        try:
            return fn(**{name: getattr(args, name, None) for name in names})
        except UserError as error:
            log.info("%s refused: %s", fn.__name__, error)
            _tell(args, error_text(_locale_for(args, error), error))
        except Exception as error:
            _tell(args, apology(_locale_for(args, error), fn.__name__))
        finally:
            _ack_if_needed(args.ack)
        return None

    in_place: Callable[[dict[str, Any]], bool] | None = getattr(fn, AFTER_ACK, None) if defer else None

    def listener(args: Args) -> Any:
        # Bolt calls this in the request's thread (``bot.slack.app.InRequestThread``): acknowledge and queue
        # the work, or hand the whole listener to the listener pool, and let the thread answer Slack.
        services = args.context.get("services")
        if not isinstance(services, Services) or not defer:
            return run(args)
        if services.after_ack is not None and in_place is not None and not in_place(args.body or {}):
            _ack_if_needed(args.ack)
            services.after_ack.submit(lambda: run(args), overflow=services.listeners)
            return None
        if services.listeners is not None:
            services.listeners.submit(run, args)
            return None
        return run(args)

    listener.__name__ = fn.__name__
    listener.__qualname__ = fn.__qualname__
    listener.__doc__ = fn.__doc__
    return listener


def on_unhandled_error(error: Exception, request: BoltRequest, response: BoltResponse | None) -> BoltResponse:
    """Bolt's global error handler: an error outside any listener (a middleware) — apologise, answer 200."""
    context = request.context
    locale = _default_locale(context)
    text = apology(locale, "request")
    try:
        _deliver(request.body or {}, context, context.ack, context.respond, context.client, text)
    except Exception:
        log.exception("the apology could not be delivered")
    return BoltResponse(status=200, body="")


# -- how the person is told ----------------------------------------------------------------------------


def _tell(args: Args, text: str) -> None:
    try:
        _deliver(args.body or {}, args.context, args.ack, args.respond, args.client, text)
    except Exception:
        log.exception("could not tell the person about an error")


def _deliver(
    body: dict[str, Any],
    context: BoltContext,
    ack: Ack | None,
    respond: Respond | None,
    client: WebClient | None,
    text: str,
) -> None:
    """Privately, the way the request's kind allows (no one else ever sees it)."""
    kind = body.get("type")
    acked = ack is None or ack.response is not None
    if kind == "view_submission" and not acked and ack is not None:
        # A form not yet answered shows the problem in place (response_action "errors" / "update"):
        # https://docs.slack.dev/surfaces/modals#updating_response
        ack(**_view_apology(body.get("view") or {}, text, _default_locale(context)))
        return
    if kind == "block_suggestion" and not acked and ack is not None:
        ack(options=[])  # an options request must still be answered, with something it can show
    elif not acked and ack is not None:
        ack()
    if respond is not None and respond.response_url and kind != "view_submission":
        respond(text=text, response_type="ephemeral", replace_original=False)
        return
    user, channel = _who_and_where(body, context)
    if not user or client is None:
        log.info("an error with no one to tell (%s)", kind or "event")
        return
    SlackGateway(client).tell_privately(channel=channel, user=user, text=text)


def _view_apology(view: dict[str, Any], text: str, locale: str) -> dict[str, Any]:
    """Next to the form's first input (the person keeps what they typed), else a notice instead of the form."""
    first = next((b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"), None)
    if first:
        return {"response_action": "errors", "errors": {str(first): text}}
    title = str((view.get("title") or {}).get("text") or "Aftercare")
    return {"response_action": "update", "view": notice_modal(title=title, text=text, locale=locale)}


def _who_and_where(body: dict[str, Any], context: BoltContext) -> tuple[str | None, str | None]:
    """The person who acted (never a bot, never a profile in a ``user_change``) and the channel they were in."""
    event = body.get("event")
    if isinstance(event, dict):
        user = event.get("user")
        if not isinstance(user, str) or event.get("bot_id"):
            return None, None
        item = event.get("item")
        channel = event.get("channel") or (item.get("channel") if isinstance(item, dict) else None)
        return user, channel if isinstance(channel, str) else None
    return context.user_id, context.channel_id


# -- language ----------------------------------------------------------------------------------------


def _default_locale(context: BoltContext) -> str:
    services = context.get("services")
    return services.default_locale if isinstance(services, Services) else "en"


def _locale_for(args: Args, error: Exception) -> str:
    """The language the listener was speaking when it failed, else the person's own, else the default."""
    noted = getattr(error, LOCALE_NOTE, None)
    if isinstance(noted, str) and noted:
        return noted
    context = args.context
    default = _default_locale(context)
    services = context.get("services")
    team, user = context.team_id or context.enterprise_id, context.user_id
    if not isinstance(services, Services) or not team or not user:
        return default
    try:
        return person_locale(services.db, team_id=str(team), user_id=str(user), default=default)
    except Exception:  # the database may be what failed
        return default


def _ack_if_needed(ack: Ack | None) -> None:
    if ack is not None and ack.response is None:
        try:
            ack()
        except Exception:
            log.exception("could not acknowledge")
