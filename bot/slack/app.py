"""The Bolt app factory: single-workspace (bot token) or multi-workspace (OAuth) mode."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, TypeVar

from slack_bolt import App, BoltContext
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.commands import register_all
from bot.commands.guard import guarding, on_unhandled_error
from bot.ops.logs import BOLT_LOGGER
from bot.slack import ids
from bot.slack.after_ack import AfterAck
from bot.slack.gateway import listener_retry_handlers
from bot.slack.installations import installation_store
from bot.slack.services import Services
from bot.slack.transport import KeepAliveWebClient
from storage.slack_tables import OAUTH_STATES_TABLE

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
T = TypeVar("T")
WEB_API_TIMEOUT = 10


# Post-ack work that must not hold a listener thread (whose pool acknowledges other requests).
BACKGROUND_THREADS = 2
# Drainers of the post-ack queue (records, cards, DMs, App Home redraws; see bot/slack/after_ack.py):
# enough to keep 100 cards a second moving while each waits ~100–300 ms for Slack; of them, at most
# AFTER_ACK_COMPUTING compute at once, so that the acks keep the interpreter lock (bench/README.md: with 4,
# PostgreSQL's ack p99 at 16 clients was 1.9–2.1× the floor's; with 2, 1.3–2.0× and no fewer cards a second).
AFTER_ACK_WORKERS = 32
AFTER_ACK_COMPUTING = 2


def web_client(services: Services, token: str | None = None) -> WebClient:
    """The listeners' client: every Web API call goes to ``SLACK_API_URL``; rate limits are waited out,
    and only calls that cannot do anything twice are retried after a server or connection error."""
    return KeepAliveWebClient(
        token=token,
        base_url=services.settings.api_url,
        timeout=WEB_API_TIMEOUT,
        retry_handlers=listener_retry_handlers(sleep=lambda seconds: services.sleep(seconds)),
    )


class InRequestThread(Executor):
    """Bolt's listener executor: runs what Bolt submits at once, in the request's thread.

    Bolt hands every matched listener to its executor, then polls every 10 ms until the listener has called
    ``ack()``. Our listeners (all wrapped by ``bot/commands/guard.py``) do no work there: a record command
    acknowledges and queues its work (``Services.after_ack``), any other listener hands itself to the listener
    pool (``Services.listeners``) — so running them here saves a thread hand-off and the polling for the
    busiest requests, and nothing slow ever runs before the HTTP answer.
    """

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # as a pool would: the caller sees it through the future
            future.set_exception(error)
        return future


class _QuietTokenWarning(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN from the environment is unused when a client is given: it is, by design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


_bolt_log = logging.getLogger(BOLT_LOGGER)
_bolt_log.addFilter(_QuietTokenWarning())


def create_app(
    services: Services,
    *,
    executor: Executor | None = None,
    background: Executor | None = None,
    token_verification: bool = True,
) -> App:
    """The app; ``executor`` runs listeners, ``background`` the slow work none of their acks may wait for."""
    settings = services.settings
    services.listeners = executor or ThreadPoolExecutor(
        max_workers=settings.threads, thread_name_prefix="listener"
    )
    if services.background is None:
        services.background = background or ThreadPoolExecutor(
            max_workers=BACKGROUND_THREADS, thread_name_prefix="background"
        )
    if services.after_ack is None:
        if background is not None:  # tests and the demo drain one pool for all post-ack work
            services.after_ack = AfterAck(
                background, workers=AFTER_ACK_WORKERS, computing=AFTER_ACK_COMPUTING
            )
        else:
            pool = ThreadPoolExecutor(max_workers=AFTER_ACK_WORKERS, thread_name_prefix="after-ack")
            services.after_ack = AfterAck(
                pool, workers=AFTER_ACK_WORKERS, computing=AFTER_ACK_COMPUTING, owns_executor=True
            )
    common = {
        "signing_secret": settings.slack_signing_secret or "",
        "request_verification_enabled": bool(settings.slack_signing_secret),
        "listener_executor": InRequestThread(),
        "logger": _bolt_log,
    }
    if settings.oauth_mode:
        store = installation_store(services)
        oauth_settings = OAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret,
            scopes=list(ids.BOT_SCOPES),
            installation_store=store,
            state_store=SQLAlchemyOAuthStateStore(
                expiration_seconds=600, engine=services.db.engine, table_name=OAUTH_STATES_TABLE
            ),
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
        )
        client = web_client(services)
        app = App(
            client=client,
            installation_store=store,
            oauth_flow=OAuthFlow(client=client, settings=oauth_settings),
            **common,  # type: ignore[arg-type]
        )
    else:
        app = App(
            client=web_client(services, settings.slack_bot_token),
            token_verification_enabled=token_verification,
            **common,  # type: ignore[arg-type]
        )

    def inject_services(context: BoltContext, next: Callable[[], None]) -> None:
        context["services"] = services
        # Bolt makes a plain WebClient for each request: ours keeps its connections to Slack open.
        context["client"] = KeepAliveWebClient.like(context.client)
        next()

    app.use(inject_services)
    app.error(on_unhandled_error)
    register_all(guarding(app))
    return app
