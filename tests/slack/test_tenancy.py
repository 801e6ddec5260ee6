"""Multi-workspace OAuth mode: installs land in the database, and no workspace sees another's data."""

from collections.abc import Iterator

import pytest

from bot.demo.simulator import FakeSlack
from bot.ops.export import export_data
from bot.ops.settings import Settings
from storage.db import Database
from tests.harness import SIGNING_SECRET, SlackHarness


@pytest.fixture
def oauth(fake_slack: FakeSlack, db: Database) -> Iterator[SlackHarness]:
    settings = Settings(
        slack_client_id="111.222",
        slack_client_secret="client-secret",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.url,
        database_url=str(db.url),
        _env_file=None,  # type: ignore[call-arg]
    )
    harness = SlackHarness(fake_slack, db, settings=settings)
    yield harness
    harness.close()


def install(harness: SlackHarness, team: str) -> None:
    page = harness.request("GET", "/slack/install")
    assert page.status in (200, 302)
    cookie = page.headers["set-cookie"].split(";")[0]
    state = cookie.split("=", 1)[1]
    done = harness.request(
        "GET", "/slack/oauth_redirect", query=f"code={team}&state={state}", headers={"Cookie": cookie}
    )
    assert done.status == 200, done.body


def tokens_used(fake: FakeSlack, method: str) -> list[str]:
    return [c.headers.get("authorization", "") for c in fake.calls_to(method)]


def test_oauth_install_then_each_workspace_uses_its_own_token_and_data(oauth: SlackHarness) -> None:
    install(oauth, "TA")
    install(oauth, "TB")
    assert [c.args["code"] for c in oauth.fake.calls_to("oauth.v2.access")] == ["TA", "TB"]

    oauth.fake.reset_calls()
    oauth.command("/project", "new ACME Acme for A", team="TA", channel="CA")
    oauth.command("/issue", "new Secret of A", team="TA", channel="CA")
    assert tokens_used(oauth.fake, "chat.postMessage") == ["Bearer xoxb-TA", "Bearer xoxb-TA"]

    oauth.fake.reset_calls()
    oauth.command("/project", "new ACME Acme for B", team="TB", channel="CB")
    oauth.command("/issue", "new Issue of B", team="TB", channel="CB")
    assert tokens_used(oauth.fake, "chat.postMessage") == ["Bearer xoxb-TB", "Bearer xoxb-TB"]

    # Same key, separate sequences: each workspace's first record is ACME-1.
    records = oauth.records()
    assert sorted((r.team_id, r.key, r.title) for r in records) == [
        ("TA", "ACME-1", "Secret of A"),
        ("TB", "ACME-1", "Issue of B"),
    ]

    # A channel id that exists in A means nothing in B.
    oauth.command("/issue", "new Sneaky", team="TB", channel="CA")
    assert "isn't linked to a project" in oauth.last_ephemeral()
    oauth.command("/project", "list", team="TB", channel="CB")
    listing = oauth.last_ephemeral()
    assert "Acme for B" in listing and "Acme for A" not in listing

    with oauth.db.read() as session:
        only_b = export_data(session, team_id="TB")
    assert [p["name"] for p in only_b["projects"]] == ["Acme for B"]
    assert [i["title"] for i in only_b["issues"]] == ["Issue of B"]


def test_a_workspace_that_never_installed_is_refused(oauth: SlackHarness) -> None:
    install(oauth, "TA")
    oauth.fake.reset_calls()
    response = oauth.command("/project", "new EVIL Evil", team="TX", channel="CX")
    assert oauth.records() == []
    assert oauth.fake.calls_to("chat.postMessage") == []
    with oauth.db.read() as session:
        assert export_data(session)["projects"] == []
    assert response.status == 200, response
    # Bolt tells the person, privately, to install the app; nothing else happens.
    assert "reinstall this app" in oauth.last_ephemeral()
    assert [c.method for c in oauth.fake.calls] == ["response_url"]
