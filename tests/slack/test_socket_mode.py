"""`aftercare socket`: the same app over Socket Mode, every Web API call to SLACK_API_URL."""

from pathlib import Path
from typing import Any

import pytest

from bot.demo.simulator import FakeSlack
from bot.ops import cli


def test_socket_mode_starts_the_app_with_the_configured_api(
    tmp_path: Path, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, mocker: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "SLACK_BOT_TOKEN": "xoxb-socket",
        "SLACK_APP_TOKEN": "xapp-1-socket",
        "SLACK_API_URL": fake_slack.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'socket.db'}",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    started: list[Any] = []
    mocker.patch(
        "slack_bolt.adapter.socket_mode.SocketModeHandler.start", autospec=True, side_effect=started.append
    )
    # Not this test process's heap; noted when called, with how many connections had been started then.
    settled: list[int] = []
    mocker.patch("bot.slack.server.settle_heap", side_effect=lambda: settled.append(len(started)))
    assert cli.main(["socket"]) == 0
    # The start-up objects were set aside from the garbage collector's full walks before the connection opened.
    assert settled == [0]
    [handler] = started
    assert handler.app_token == "xapp-1-socket"
    assert handler.client.web_client.base_url == fake_slack.url
    assert handler.app.client.base_url == fake_slack.url
    # The bot token was verified against the configured API, and the database was created and migrated.
    assert [c.headers["authorization"] for c in fake_slack.calls_to("auth.test")] == ["Bearer xoxb-socket"]
    assert (tmp_path / "socket.db").exists()
