"""HTTP mode: a small WSGI router in front of Bolt, served by waitress (multi-threaded)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.app import INSTALL_PATH, REDIRECT_PATH
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
            return self.bolt(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
        return [b"Not Found"]


def serve_http(wsgi: AftercareWSGI, *, host: str, port: int, threads: int) -> None:
    from waitress import serve

    log.info("listening on http://%s:%s%s", host, port, EVENTS_PATH)
    serve(wsgi, host=host, port=port, threads=threads, ident="aftercare", clear_untrusted_proxy_headers=True)
