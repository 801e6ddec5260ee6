"""Listener calls honour Slack's rate limits after the ack: a 429 is waited out (through the injected
sleeper) and the call made again; a post is never sent twice on a server error; the job runner's
client keeps no retries of its own (its ledger decides)."""

from __future__ import annotations

import json
from typing import Any

from bot.delivery.runner import job_client_factory
from bot.slack import ids
from tests.harness import TEAM, SlackHarness, acked_before, click
from tests.home.test_app_home import published, texts


def cards(slack: SlackHarness) -> list[dict[str, Any]]:
    return [m for m in slack.fake.posted("CPROJ") if str(m["text"]).startswith("*ACME-1*")]


def toggle_off(slack: SlackHarness) -> Any:
    button = {"action_id": ids.ACTION_HOME_NOTIFY_ASSIGNMENTS, "value": json.dumps({"notify": False})}
    return click(slack, button, in_home=True)


def test_a_rate_limited_app_home_is_still_published_after_the_ack(home_ready: SlackHarness) -> None:
    home_ready.fake.fail("views.publish", status=429, retry_after=1)
    with acked_before(home_ready, "views.publish") as acked:
        response = toggle_off(home_ready)
    assert response.status == 200
    assert acked == [True]  # the try Slack took came after the ack: the ack never waited for the retry
    assert home_ready.slept == [1.0]  # Slack's Retry-After, waited through the injected sleeper
    first, second = published(home_ready)  # refused (429), then taken
    assert first["view"] == second["view"]
    assert "Assignment messages: off" in texts(second["view"]["blocks"])


def test_a_long_retry_after_is_not_waited_in_a_listener(home_ready: SlackHarness) -> None:
    home_ready.fake.fail("views.publish", status=429, retry_after=600)
    assert toggle_off(home_ready).status == 200
    assert len(home_ready.fake.calls_to("views.publish")) == 1
    assert home_ready.slept == []


def test_a_rate_limited_post_is_sent_again_once(project: SlackHarness) -> None:
    project.fake.fail("chat.postMessage", status=429, retry_after=2)
    project.command("/issue", "new Printer jams")
    assert len(project.fake.calls_to("chat.postMessage")) == 2
    assert len(cards(project)) == 1  # a 429 means Slack did not post it the first time
    assert project.slept == [2.0]


def test_a_post_is_never_retried_after_a_server_error(project: SlackHarness) -> None:
    # Slack may have posted it before failing: sending it again could show the card twice.
    project.fake.fail("chat.postMessage", status=500, accept=True)
    project.command("/issue", "new Printer jams")
    assert len(project.fake.calls_to("chat.postMessage")) == 1
    assert len(cards(project)) == 1
    assert project.slept == []


def test_a_redraw_is_retried_after_a_server_error(home_ready: SlackHarness) -> None:
    home_ready.fake.fail("views.publish", status=500)
    toggle_off(home_ready)
    assert len(home_ready.fake.calls_to("views.publish")) == 2
    assert len(published(home_ready)) == 2
    assert len(home_ready.slept) == 1


def test_the_job_runners_client_keeps_no_retries(slack: SlackHarness) -> None:
    client = job_client_factory(slack.services)(TEAM)
    assert client is not None
    assert client.retry_handlers == []
