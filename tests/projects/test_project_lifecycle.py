"""`/project link`, `unlink`, `close` and `reopen`: who may, what changes, what is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.people import upsert_member
from bot.ops.export import export_data
from storage.models import Project, ProjectChannel
from tests.harness import TEAM, SlackHarness
from tests.projects.test_closure import close

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _project(slack: SlackHarness, key: str = "ACME", team: str = TEAM) -> dict[str, Any]:
    with slack.db.read() as session:
        [project] = export_data(session, team_id=team, project_key=key)["projects"]
    return project


def _history(slack: SlackHarness) -> list[tuple[str, str, str | None, str | None, str]]:
    with slack.db.read() as session:
        entries = export_data(session)["history"]
    return [(e["record"], e["field"], e["old"], e["new"], e["by"]) for e in entries]


def _links(slack: SlackHarness) -> list[tuple[str, str, str]]:
    with slack.db.read() as session:
        rows = session.execute(
            select(ProjectChannel.team_id, ProjectChannel.channel_id, Project.key)
            .join(Project, Project.id == ProjectChannel.project_id)
            .order_by(ProjectChannel.id)
        )
        return [(team_id, channel_id, key) for team_id, channel_id, key in rows]


def _make_admin(slack: SlackHarness, user_id: str = "UADMIN") -> None:
    slack.fake.add_user(user_id, is_admin=True)  # as Slack says it, when the directory asks again
    with slack.db.write() as session:
        upsert_member(session, team_id=TEAM, member={"id": user_id, "is_admin": True}, now=NOW)


def _posted(slack: SlackHarness) -> list[Any]:
    return slack.fake.calls_to("chat.postMessage")


# -- link ------------------------------------------------------------------------------------


def test_owner_links_a_second_channel_and_records_logged_there_belong_to_the_project(
    project: SlackHarness,
) -> None:
    project.services.clock = lambda: NOW
    project.command("/project", "link ACME", channel="C2")
    assert "now linked to project *ACME*" in project.last_ephemeral()
    assert _links(project) == [(TEAM, "CPROJ", "ACME"), (TEAM, "C2", "ACME")]
    assert _project(project)["channel_id"] == "CPROJ"  # the main channel stays
    assert ("ACME", "channels", "CPROJ", "CPROJ,C2", "UALICE") in _history(project)
    assert _posted(project) == []  # answered only to the person

    project.command("/task", "new Write docs", channel="C2")
    [record] = project.records()
    assert record.key == "ACME-1"
    project.command("/project", "status", channel="C2")
    assert "*ACME*" in project.last_ephemeral()


def test_lower_case_key_and_a_public_channel_the_bot_is_not_in(project: SlackHarness) -> None:
    project.fake.add_channel("CPUB", is_member=False)
    project.command("/project", "link acme", channel="CPUB")
    assert [c.args["channel"] for c in project.fake.calls_to("conversations.join")] == ["CPUB"]
    assert (TEAM, "CPUB", "ACME") in _links(project)


def test_workspace_admin_may_link(project: SlackHarness) -> None:
    _make_admin(project)
    project.command("/project", "link ACME", channel="C2", user="UADMIN")
    assert (TEAM, "C2", "ACME") in _links(project)


@pytest.mark.parametrize(
    ("text", "user", "channel", "needle"),
    [
        ("link ACME", "UBOB", "C2", "Only an owner of project ACME or a workspace admin"),
        ("link ACME", "UALICE", "D0123", "not in direct messages"),
        ("link ACME", "UALICE", "CPROJ", "already linked to project ACME"),
        ("link NOPE", "UALICE", "C2", "There is no project NOPE in this workspace"),
        ("link OTHER", "UALICE", "C2", "There is no project OTHER in this workspace"),
        ("link", "UALICE", "C2", "Name the project to link"),
        ("link ACME now", "UALICE", "C2", "Give just the project key"),
        ("link ac-me", "UALICE", "C2", "can't be a project key"),
    ],
)
def test_link_refusals_are_private_and_change_nothing(
    project: SlackHarness, text: str, user: str, channel: str, needle: str
) -> None:
    # A project of another workspace is unknown here, even with its key.
    project.command("/project", "new OTHER Other workspace", team="T0002", channel="C9")
    project.fake.reset_calls()
    before = _links(project)
    project.command("/project", text, user=user, channel=channel)
    assert needle in project.last_ephemeral()
    assert _links(project) == before
    assert _posted(project) == []
    assert project.fake.calls_to("conversations.join") == []
    assert [e for e in _history(project) if e[1] == "channels"] == []


def test_a_channel_linked_to_another_project_is_refused(project: SlackHarness) -> None:
    project.command("/project", "new BETA Beta", channel="C2")
    project.command("/project", "link ACME", channel="C2")
    assert "already linked to project BETA" in project.last_ephemeral()
    assert (TEAM, "C2", "BETA") in _links(project) and (TEAM, "C2", "ACME") not in _links(project)


def test_private_channel_the_bot_is_not_in_asks_for_an_invite(project: SlackHarness) -> None:
    project.fake.add_channel("GPRIV", is_private=True, is_member=False)
    project.command("/project", "link ACME", channel="GPRIV")
    assert "/invite @Aftercare" in project.last_ephemeral()
    assert (TEAM, "GPRIV", "ACME") not in _links(project)


# -- unlink ----------------------------------------------------------------------------------


def test_unlinking_the_main_channel_moves_it_then_the_last_one_leaves_no_channel(
    project: SlackHarness,
) -> None:
    project.command("/project", "link ACME", channel="C2")
    project.command("/project", "unlink", channel="CPROJ")
    reply = project.last_ephemeral()
    assert "no longer linked to project *ACME*" in reply and "<#C2>" in reply
    assert _project(project)["channel_id"] == "C2"
    assert _links(project) == [(TEAM, "C2", "ACME")]
    history = _history(project)
    assert ("ACME", "channels", "CPROJ,C2", "C2", "UALICE") in history
    assert ("ACME", "channel_id", "CPROJ", "C2", "UALICE") in history

    # The old channel is no project's any more.
    project.command("/task", "new Something", channel="CPROJ")
    assert "isn't linked to a project" in project.last_ephemeral()
    assert project.records() == []

    # The last channel may go too; the project stays and can be linked again.
    project.command("/project", "unlink", channel="C2")
    assert "has no linked channel now" in project.last_ephemeral()
    assert _project(project)["channel_id"] is None and _links(project) == []
    project.command("/project", "link ACME", channel="C3")
    assert _project(project)["channel_id"] == "C3"


def test_unlinking_a_secondary_channel_keeps_the_main_one(project: SlackHarness) -> None:
    project.command("/project", "link ACME", channel="C2")
    project.command("/project", "unlink", channel="C2")
    assert "main channel" not in project.last_ephemeral()
    assert _project(project)["channel_id"] == "CPROJ"
    assert _links(project) == [(TEAM, "CPROJ", "ACME")]


@pytest.mark.parametrize(
    ("user", "channel", "needle"),
    [
        ("UBOB", "CPROJ", "Only an owner of project ACME"),
        ("UALICE", "C9", "isn't linked to a project"),
        ("UALICE", "D0123", "isn't linked to a project"),
    ],
)
def test_unlink_refusals(project: SlackHarness, user: str, channel: str, needle: str) -> None:
    project.command("/project", "unlink", user=user, channel=channel)
    assert needle in project.last_ephemeral()
    assert _links(project) == [(TEAM, "CPROJ", "ACME")]
    assert _project(project)["channel_id"] == "CPROJ"
    assert _posted(project) == []


def test_admin_may_unlink(project: SlackHarness) -> None:
    _make_admin(project)
    project.command("/project", "unlink", user="UADMIN")
    assert _links(project) == []


# -- close and reopen ------------------------------------------------------------------------


def test_owner_closes_then_reopens(project: SlackHarness) -> None:
    project.services.clock = lambda: NOW
    close(project, now=None)
    closed = _project(project)
    assert closed["status"] == "closed"
    assert datetime.fromisoformat(closed["closed_at"]) == NOW
    [notice] = [p for p in _posted(project) if "closed project" in p.args["text"]]
    assert notice.args["channel"] == "CPROJ"
    assert "<@UALICE> closed project *ACME*" in notice.args["text"]
    assert ("ACME", "status", "active", "closed", "UALICE") in _history(project)

    # No new records in a closed project; the list still shows it.
    project.command("/task", "new Write docs")
    assert "ACME is closed" in project.last_ephemeral()
    assert project.records() == []
    project.command("/project", "list")
    assert "*ACME* Acme Corp after-sales — closed" in project.last_ephemeral()
    project.command("/project", "close")
    assert "already closed" in project.last_ephemeral()

    project.fake.reset_calls()
    project.command("/project", "reopen")
    reopened = _project(project)
    assert (reopened["status"], reopened["closed_at"]) == ("active", None)
    [notice] = _posted(project)
    assert "<@UALICE> reopened project *ACME*" in notice.args["text"]
    assert ("ACME", "status", "closed", "active", "UALICE") in _history(project)
    project.command("/task", "new Write docs")
    assert [r.key for r in project.records()] == ["ACME-1"]
    project.command("/project", "reopen")
    assert "already active" in project.last_ephemeral()


@pytest.mark.parametrize("verb", ["close", "reopen"])
def test_close_and_reopen_need_an_owner(project: SlackHarness, verb: str) -> None:
    if verb == "reopen":
        close(project, now=None)
        project.fake.reset_calls()
    status = _project(project)["status"]
    project.command("/project", verb, user="UBOB")
    assert "Only an owner of project ACME or a workspace admin" in project.last_ephemeral()
    assert _project(project)["status"] == status
    assert _posted(project) == []


def test_admin_may_close_and_reopen(project: SlackHarness) -> None:
    _make_admin(project)
    close(project, user="UADMIN", now=None)
    assert _project(project)["status"] == "closed"
    project.command("/project", "reopen", user="UADMIN")
    assert _project(project)["status"] == "active"
    assert [e[4] for e in _history(project) if e[1] == "status"] == ["UADMIN", "UADMIN"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("close now", "/project close takes no options"),
    ],
)
def test_other_subcommands(project: SlackHarness, text: str, needle: str) -> None:
    project.command("/project", text)
    assert needle in project.last_ephemeral()
    assert _project(project)["status"] == "active"


def test_close_in_a_channel_without_project(slack: SlackHarness) -> None:
    slack.command("/project", "close", channel="C9")
    assert "isn't linked to a project" in slack.last_ephemeral()


def test_help_lists_every_subcommand(slack: SlackHarness) -> None:
    slack.command("/project", "help")
    text = slack.last_ephemeral()
    for sub in ("new", "link", "unlink", "list", "status", "settings", "close", "reopen"):
        assert f"`/project {sub}" in text
