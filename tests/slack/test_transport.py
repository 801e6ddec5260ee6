"""Slack calls over kept-alive connections: reused while good, a POST never sent twice, errors as before."""

from __future__ import annotations

import os
import signal
import socket
import time
from typing import Any
from urllib.error import URLError

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.demo.simulator import FakeSlack
from bot.slack import transport
from bot.slack.transport import IDLE_LIMIT, KeepAliveWebClient, KeptAlive
from tests.harness import SlackHarness


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> _Clock:
    return _Clock()


@pytest.fixture
def client(fake_slack: FakeSlack, clock: _Clock) -> KeepAliveWebClient:
    client = KeepAliveWebClient(
        token="xoxb-test-token", base_url=fake_slack.url, retry_handlers=[], timeout=5
    )
    client.connections = KeptAlive(clock=clock)  # this test's own connections and time
    return client


def _post(client: WebClient, text: str) -> str:
    return str(client.chat_postMessage(channel="CPROJ", text=text)["ts"])


def _texts(fake: FakeSlack) -> list[str]:
    return [str(m.get("text")) for m in fake.posted("CPROJ")]


@pytest.fixture(autouse=True)
def _channel(fake_slack: FakeSlack) -> None:
    fake_slack.add_channel("CPROJ", name="proj", members=("UALICE",))


def test_calls_from_one_thread_go_over_one_connection_kept_open(
    client: KeepAliveWebClient, fake_slack: FakeSlack
) -> None:
    for n in range(3):
        _post(client, f"hello {n}")

    assert _texts(fake_slack) == ["hello 0", "hello 1", "hello 2"]
    assert client.connections.opened == 1
    assert fake_slack.open_connections() == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_and_the_message_posted_once(
    client: KeepAliveWebClient, fake_slack: FakeSlack
) -> None:
    _post(client, "before")
    fake_slack.hang_up()

    _post(client, "after")

    assert _texts(fake_slack) == ["before", "after"]
    assert client.connections.opened == 2
    assert client.connections.resent == 0  # seen closed before sending, not by a failed send


class _Refusing:
    """A kept connection that the server closed just as a request went out: sending on it fails."""

    sock = None
    closed = False

    def request(self, *args: Any, **kwargs: Any) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def close(self) -> None:
        self.closed = True


def test_a_request_a_reused_connection_could_not_take_is_sent_once_on_a_new_one(
    client: KeepAliveWebClient, fake_slack: FakeSlack, clock: _Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closed between the check and the send: nothing reached Slack, so it goes once more, on a new connection."""
    refusing = _Refusing()
    monkeypatch.setattr(transport, "_closed_by_server", lambda connection: False)  # the race: it looked open
    port = int(fake_slack.url.split(":")[2].split("/")[0])
    client.connections.open[("http", "127.0.0.1", port, id(None))] = (refusing, clock())  # type: ignore[assignment]

    _post(client, "once")

    assert _texts(fake_slack) == ["once"]
    assert refusing.closed
    assert (client.connections.resent, client.connections.opened) == (1, 1)


def test_a_new_connection_that_cannot_send_fails_as_urllib_does_and_is_not_sent_again(clock: _Clock) -> None:
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    client = KeepAliveWebClient(
        token="xoxb-test-token", base_url=f"http://127.0.0.1:{port}/api/", retry_handlers=[]
    )
    client.connections = KeptAlive(clock=clock)

    with pytest.raises(URLError):
        _post(client, "nowhere")

    assert (client.connections.resent, client.connections.opened) == (0, 1)


def test_a_connection_idle_past_the_limit_is_not_reused(
    client: KeepAliveWebClient, fake_slack: FakeSlack, clock: _Clock
) -> None:
    _post(client, "first")
    clock.now += IDLE_LIMIT - 1
    _post(client, "soon after")
    clock.now += IDLE_LIMIT + 1
    _post(client, "much later")

    assert _texts(fake_slack) == ["first", "soon after", "much later"]
    assert client.connections.opened == 2


def test_an_http_error_reaches_slack_sdk_with_its_headers_and_the_connection_stays_usable(
    client: KeepAliveWebClient, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("chat.postMessage", status=429, retry_after=7)

    with pytest.raises(SlackApiError) as refused:
        _post(client, "too fast")
    _post(client, "later")

    assert refused.value.response.status_code == 429
    assert refused.value.response.headers["Retry-After"] == "7"
    assert _texts(fake_slack) == ["later"]
    assert client.connections.opened == 1


def test_slack_sdk_retry_handlers_still_see_a_rate_limit(fake_slack: FakeSlack, clock: _Clock) -> None:
    """The client's retry handlers work as with urllib: a 429 with Retry-After is waited out and sent again."""
    client = KeepAliveWebClient(
        token="xoxb-test-token",
        base_url=fake_slack.url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    client.connections = KeptAlive(clock=clock)
    fake_slack.fail("chat.postMessage", status=429, retry_after=0)

    _post(client, "eventually")

    assert _texts(fake_slack) == ["eventually"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


def test_an_answer_that_does_not_come_in_time_is_not_asked_again(
    fake_slack: FakeSlack, clock: _Clock
) -> None:
    """A timed-out POST may have been done: it is not sent again (the caller decides), and the next call opens a
    new connection."""
    client = KeepAliveWebClient(
        token="xoxb-test-token", base_url=fake_slack.url, retry_handlers=[], timeout=1
    )
    client.connections = KeptAlive(clock=clock)
    fake_slack.fail("chat.postMessage", delay=2.0, error="internal_error")

    with pytest.raises(TimeoutError):
        _post(client, "in doubt")
    _post(client, "next")

    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    assert client.connections.opened == 2


def test_a_client_like_bolts_keeps_its_token_team_and_retries() -> None:
    handlers: list[RetryHandler] = [RateLimitErrorRetryHandler(max_retry_count=1)]
    bolts = WebClient(token="xoxb-1", base_url="https://slack.example/api/", timeout=9, team_id="T9",
                      retry_handlers=handlers)  # fmt: skip

    ours = KeepAliveWebClient.like(bolts)

    assert isinstance(ours, KeepAliveWebClient)
    assert (ours.token, ours.base_url, ours.timeout) == ("xoxb-1", "https://slack.example/api/", 9)
    assert ours.default_params == {"team_id": "T9"}
    assert ours.retry_handlers is handlers
    assert KeepAliveWebClient.like(ours) is ours


def test_the_app_keeps_its_connections_to_slack_open(project: SlackHarness) -> None:
    """Listeners call Slack through the kept-alive client (urllib's would have closed each connection)."""
    project.fake.hang_up()

    project.command("/issue", "new Printer jams")

    assert any("Printer jams" in str(m.get("text")) for m in project.fake.posted("CPROJ"))
    assert project.fake.open_connections() >= 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_does_not_reuse_its_parents_connection(fake_slack: FakeSlack) -> None:
    """gunicorn forks its workers: a connection the parent opened must not carry a child's requests."""
    parent = KeepAliveWebClient(token="xoxb-test-token", base_url=fake_slack.url, retry_handlers=[])
    _post(parent, "from the parent")
    opened_before = parent.connections.opened
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: post once, say how many connections it opened, and leave at once
        try:
            _post(parent, "from the child")
            os.write(write, str(parent.connections.opened - opened_before).encode())
        finally:
            os._exit(0)
    os.close(write)
    deadline = time.monotonic() + 10
    while os.waitpid(child, os.WNOHANG) == (0, 0):  # a stuck child fails the test instead of hanging it
        if time.monotonic() > deadline:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            break
        time.sleep(0.01)
    opened_in_child = os.read(read, 16).decode()
    os.close(read)
    _post(parent, "from the parent again")

    assert opened_in_child == "1"
    assert _texts(fake_slack) == ["from the parent", "from the child", "from the parent again"]
