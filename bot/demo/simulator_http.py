"""The stand-in Slack's HTTP side: a threaded HTTP/1.1 server that hands each Web API call (and each
``response_url`` post and file upload) to :class:`bot.demo.simulator.FakeSlack`, and hangs up on every
client when it stops."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from bot.demo.simulator import FakeSlack


class _Handler(BaseHTTPRequestHandler):
    server: SlackHttpServer
    # Slack keeps a connection open between calls (HTTP/1.1) unless the client asks to close it.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0].lstrip("/")
        if path.startswith("upload/"):
            # The second step of files_upload_v2: the file's bytes, as they are.
            self.server.fake.handle(self, "upload", {"_path": path, "_bytes": body})
            return
        raw = body.decode("utf-8")
        content_type = self.headers.get("Content-Type", "")
        if "json" in content_type:
            args = json.loads(raw or "{}")
        else:
            args = {k: v[0] for k, v in parse_qs(raw).items()}
        if path.startswith("response/"):
            method = "response_url"
            args["_path"] = path
        else:
            method = path.removeprefix("api/")
        self.server.fake.handle(self, method, args)

    do_GET = do_POST


class SlackHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    # Slack takes many connections at once. With socketserver's default listen backlog of 5, benchmark runs of
    # 1,920 requests saw a few of the post-ack drainers' connections reset (cards counted lost); 128 did not.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], fake: FakeSlack) -> None:
        super().__init__(address, _Handler)
        self.fake = fake
        # Open connections and the threads serving them: kept-alive ones wait for their client's next call.
        self.connections: dict[socket.socket, threading.Thread] = {}
        self.connections_lock = threading.Lock()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections[request] = threading.current_thread()
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.connections_lock:
                self.connections.pop(request, None)

    def close_connections(self, timeout: float = 5.0) -> None:
        """Hang up on every client (as a stopping server does) and wait for the threads serving them."""
        with self.connections_lock:
            open_now = list(self.connections.items())
        for sock, _thread in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for _sock, thread in open_now:
            thread.join(max(0.0, deadline - time.monotonic()))
