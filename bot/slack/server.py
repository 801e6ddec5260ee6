"""How the app is served: over HTTP, a small WSGI router in front of Bolt under waitress (multi-threaded) or
gunicorn (pre-forked workers); or over Socket Mode."""

from __future__ import annotations

import json
import logging
import secrets
import signal
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.ops.heap import settle_heap
from bot.slack.app import INSTALL_PATH, REDIRECT_PATH
from storage.db import Database

log = logging.getLogger("aftercare.server")

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

StartResponse = Callable[..., Any]


class AftercareWSGI:
    def __init__(self, app: App, db: Database) -> None:
        self.bolt = SlackRequestHandler(app, path=EVENTS_PATH)
        self.db = db
        self.oauth = app.oauth_flow is not None

    def health(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            self.db.ping()
        except Exception as exc:
            log.warning("health check: database unreachable: %s", exc)
            body = {"status": "unavailable", "database": "unreachable"}
            status = "503 Service Unavailable"
        else:
            body = {"status": "ok", "database": "ok"}
            status = "200 OK"
        payload = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """One structured log line per request: id, method, path, status, duration (never the body)."""
        started = time.perf_counter()
        request_id = environ.get("HTTP_X_REQUEST_ID") or secrets.token_hex(8)
        seen: list[str] = []

        def recording_start_response(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            seen.append(status)
            return start_response(status, [*headers, ("X-Request-Id", request_id)], *exc)

        try:
            return self._route(environ, recording_start_response)
        finally:
            log.info(
                "request",
                extra={
                    "fields": {
                        "request_id": request_id,
                        "method": environ.get("REQUEST_METHOD"),
                        "path": environ.get("PATH_INFO"),
                        "status": int(seen[0].split()[0]) if seen else 500,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                        "slack_retry": environ.get("HTTP_X_SLACK_RETRY_NUM"),
                    }
                },
            )

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method == "GET":
            return self.health(start_response)
        routes = {EVENTS_PATH: "POST"}
        if self.oauth:
            routes.update({INSTALL_PATH: "GET", REDIRECT_PATH: "GET"})
        if path in routes:
            if method != routes[path]:
                start_response("405 Method Not Allowed", [("Allow", routes[path]), ("Content-Length", "0")])
                return [b""]
            try:
                return self.bolt(environ, start_response)
            except (
                ValueError,
                AttributeError,
                TypeError,
                KeyError,
            ) as exc:  # a body Bolt cannot parse: the client's fault
                log.warning("unparseable request body: %s", type(exc).__name__)
                start_response("400 Bad Request", [("Content-Type", "text/plain"), ("Content-Length", "11")])
                return [b"Bad Request"]
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
        return [b"Not Found"]


def serve_http(wsgi: AftercareWSGI, *, host: str, port: int, threads: int) -> None:
    """Serve until SIGTERM/SIGINT; then stop accepting, and let requests in flight finish (waitress waits)."""
    from waitress.server import create_server

    server = create_server(
        wsgi, host=host, port=port, threads=threads, ident="aftercare", clear_untrusted_proxy_headers=True
    )

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: finishing requests in flight, then stopping", signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    settle_heap()
    log.info("listening on http://%s:%s%s", host, port, EVENTS_PATH)
    try:
        server.run()  # on KeyboardInterrupt waitress shuts its task threads down, waiting for running ones
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def serve_socket(app: App, *, app_token: str, client: WebClient) -> None:
    """Socket Mode: the app over Slack's WebSocket, until the process is stopped."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, app_token, web_client=client)
    settle_heap()
    handler.start()


def serve_workers(
    build: Callable[[], tuple[AftercareWSGI, Callable[[], None]]],
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
) -> None:
    """Serve with ``workers`` processes (gunicorn, pre-fork, threaded workers) until SIGTERM/SIGINT.

    ``build`` runs in each worker after the fork (every process has its own database pool and
    Slack client) and returns the WSGI app and what to call when that worker stops (it finishes
    its post-ack queue). Requests in flight finish within gunicorn's graceful timeout.
    """
    from gunicorn.app.base import BaseApplication

    stops: list[Callable[[], None]] = []

    def worker_exit(_server: Any, _worker: Any) -> None:
        for stop in stops:
            stop()

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{host}:{port}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "graceful_timeout": 20,
                "timeout": 60,
                "accesslog": None,
                "proc_name": "aftercare",
                "worker_exit": worker_exit,
            }.items():
                self.cfg.set(key, value)

        def load(self) -> AftercareWSGI:
            wsgi, stop = build()
            stops.append(stop)
            settle_heap()  # in each worker, once its app is built
            return wsgi

    log.info("listening on http://%s:%s%s with %s worker processes", host, port, EVENTS_PATH, workers)
    _Gunicorn().run()
