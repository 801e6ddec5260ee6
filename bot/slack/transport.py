"""Slack Web API calls over kept-alive connections.

slack_sdk's ``WebClient`` sends each call through ``urllib``, which opens a new connection for every request
and closes it after (``Connection: close``): against slack.com, a TCP and a TLS handshake per card, per DM,
per digest. :class:`KeepAliveWebClient` is the same client whose requests go over HTTP/1.1 connections kept
open between calls — one per thread and server, since a connection carries one request at a time.

What could make a POST run twice is avoided rather than retried: an idle connection is not reused once the
server may have closed it (idle longer than ``IDLE_LIMIT``, or closed already: it reads as ready), and only a
request that could not be *sent* on a reused connection is sent again, on a new one. Every other failure
reaches slack_sdk as ``urllib`` would raise it (``URLError``, ``RemoteDisconnected``, ``HTTPError``), so its
retry handlers and the delivery ledger decide as before. Through a proxy, the client is slack_sdk's own.
"""

from __future__ import annotations

import functools
import io
import os
import select
import ssl
import threading
import time
from collections.abc import Callable
from http.client import HTTPConnection, HTTPResponse, HTTPSConnection
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import SplitResult, urlsplit
from urllib.request import Request

from slack_sdk import WebClient

# Seconds an idle connection stays reusable: below the keep-alive timeouts servers and load balancers commonly
# use (60 s), so that a server seldom closes a connection just as a request goes out on it.
IDLE_LIMIT = 50.0

_Key = tuple[str, str, int, int]


class KeptAlive(threading.local):
    """This thread's open connections, by server (scheme, host, port, TLS settings), with when each was last
    used. Per thread: a connection carries one request at a time, and each of our threads makes one call at a
    time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.open: dict[_Key, tuple[HTTPConnection, float]] = {}
        self.opened = 0  # connections this thread opened
        self.resent = 0  # requests sent again because a reused connection failed to take them

    def take(self, key: _Key) -> HTTPConnection | None:
        """A connection to reuse for ``key``, if one is open and still good (it leaves the pool meanwhile)."""
        kept = self.open.pop(key, None)
        if kept is None:
            return None
        connection, last_used = kept
        if self.clock() - last_used > IDLE_LIMIT or _closed_by_server(connection):
            connection.close()
            return None
        return connection

    def give_back(self, key: _Key, connection: HTTPConnection) -> None:
        self.open[key] = (connection, self.clock())


def _closed_by_server(connection: HTTPConnection) -> bool:
    """An idle connection that reads as ready was closed by the server (or sent what no request asked for)."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


_kept_alive = KeptAlive()


def _forget_inherited() -> None:
    """In a forked child (a gunicorn worker): the parent's connections are the parent's — a socket two
    processes read from mixes their answers. The child drops them (closing its copies leaves the parent's open)."""
    for connection, _ in _kept_alive.open.values():
        connection.close()
    _kept_alive.open.clear()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forget_inherited)


def _send(connection: HTTPConnection, target: str, req: Request, headers: dict[str, str]) -> OSError | None:
    """Send ``req`` on ``connection``; the error that kept it from being sent (the connection is closed), if any."""
    try:
        connection.request("POST", target, body=req.data, headers=headers)
    except OSError as error:
        connection.close()
        return error
    return None


class KeepAliveWebClient(WebClient):
    """slack_sdk's client, sending over kept-alive connections (see the module doc)."""

    connections: KeptAlive = _kept_alive

    @classmethod
    def like(cls, client: WebClient) -> KeepAliveWebClient:
        """A client with ``client``'s settings (Bolt builds a plain ``WebClient`` for every request)."""
        if isinstance(client, cls):
            return client
        copy = cls(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            headers=dict(client.headers),
            logger=client.logger,
            retry_handlers=client.retry_handlers,
        )
        copy.default_params = dict(client.default_params)  # the team_id Bolt gives each request's client
        return copy

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        parts = urlsplit(url)
        if self.proxy is not None or parts.scheme not in ("http", "https") or not parts.hostname:
            return super()._perform_urllib_http_request_internal(url, req)
        response, body = self._exchange(parts, req)
        if not 200 <= response.status < 300:  # as urllib's HTTPErrorProcessor raises it
            raise HTTPError(url, response.status, response.reason, response.msg, io.BytesIO(body))
        if response.msg.get_content_type() == "application/gzip":
            return {"status": response.status, "headers": response.msg, "body": body}
        charset = response.msg.get_content_charset() or "utf-8"
        return {"status": response.status, "headers": response.msg, "body": body.decode(charset)}

    def _exchange(self, parts: SplitResult, req: Request) -> tuple[HTTPResponse, bytes]:
        """Send ``req`` and read its whole answer, on this thread's connection to the server if it has one."""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (parts.scheme, str(parts.hostname), port, id(self.ssl))
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(req.header_items())
        pool = self.connections
        connection = pool.take(key)
        if connection is not None and _send(connection, target, req, headers) is not None:
            # The server closed the reused connection before taking the request: nothing was done; a new one.
            pool.resent += 1
            connection = None
        if connection is None:
            connection = self._connect(parts.scheme, str(parts.hostname), port)
            error = _send(connection, target, req, headers)
            if error is not None:  # as urllib raises it: the request may not have reached Slack
                raise URLError(error) from error
        try:
            response = connection.getresponse()
            body = response.read()
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            pool.give_back(key, connection)
        return response, body

    def _connect(self, scheme: str, host: str, port: int) -> HTTPConnection:
        self.connections.opened += 1
        if scheme == "https":
            context = self.ssl or _default_tls()
            return HTTPSConnection(host, port, timeout=self.timeout, context=context)
        return HTTPConnection(host, port, timeout=self.timeout)


@functools.cache
def _default_tls() -> ssl.SSLContext:
    """The TLS settings urllib uses when given none (verified certificates), made once."""
    return ssl.create_default_context()
