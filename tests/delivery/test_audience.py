"""One audience policy for internal posts (docs/INTERFACE.md "Where posts go"), through the real digest job.

A channel counts as shared when Slack says ``is_ext_shared`` / ``is_pending_ext_shared``, when a guest or
one of the project's customer contacts is among its members, or when Slack cannot answer: fail closed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.delivery.base import JobContext
from bot.delivery.runner import Runner
from bot.demo.simulator import FakeSlack
from bot.jobs import digest
from storage.models import Delivery, MemberRole, Person, Project, ProjectMember
from tests.harness import HARNESS_NOW, TEAM, SlackHarness, job_runner

# ACME's digest is due at the harness's instant (Monday 09:00 in UTC).
SLOT = HARNESS_NOW


def _runner(slack: SlackHarness, now: datetime = SLOT) -> Runner:
    return job_runner(slack, now)


def _set_project(slack: SlackHarness, **values: Any) -> None:
    with slack.db.write() as session:
        session.execute(update(Project).where(Project.key == "ACME").values(**values))


@pytest.fixture
def project(project: SlackHarness) -> SlackHarness:
    """ACME created a week before its digest slot (no digest covers a week before a project existed)."""
    _set_project(project, created_at=SLOT - timedelta(days=7))
    return project


def _add_contact(slack: SlackHarness, user_id: str) -> None:
    with slack.db.write() as session:
        project = session.scalar(select(Project).where(Project.key == "ACME"))
        assert project is not None
        session.add(
            ProjectMember(
                team_id=TEAM, project_id=project.id, user_id=user_id, role=MemberRole.CUSTOMER_CONTACT
            )
        )


def _internal(fake: FakeSlack, channel: str) -> None:
    fake.add_user("UALICE")
    fake.add_channel(channel, members=["UALICE", "UBOB"])
    fake.add_user("UBOB")


def _ext_shared(fake: FakeSlack, channel: str) -> None:
    fake.add_channel(channel, is_ext_shared=True, members=["UALICE"])


def _pending_ext_shared(fake: FakeSlack, channel: str) -> None:
    fake.add_channel(channel, is_pending_ext_shared=True, members=["UALICE"])


def _guest(fake: FakeSlack, channel: str) -> None:
    fake.add_user("UALICE")
    fake.add_user("UGUEST", is_restricted=True)
    fake.add_channel(channel, members=["UALICE", "UGUEST"])


def _single_channel_guest(fake: FakeSlack, channel: str) -> None:
    fake.add_user("UALICE")
    fake.add_user("UGUEST", is_ultra_restricted=True)
    fake.add_channel(channel, members=["UALICE", "UGUEST"])


def _customer_contact(fake: FakeSlack, channel: str) -> None:
    fake.add_user("UALICE")
    fake.add_user("UCUST")  # a member of this workspace, but the project's customer contact
    fake.add_channel(channel, members=["UALICE", "UCUST"])


def _info_error(fake: FakeSlack, channel: str) -> None:
    _internal(fake, channel)
    fake.fail("conversations.info", error="ratelimited")


def _members_error(fake: FakeSlack, channel: str) -> None:
    _internal(fake, channel)
    fake.fail("conversations.members", error="internal_error")


def _unknown_channel(fake: FakeSlack, channel: str) -> None:
    fake.fail("conversations.info", error="channel_not_found")


CASES: dict[str, tuple[Callable[[FakeSlack, str], None], bool]] = {
    # case: (set-up of the channel, shared?)
    "internal": (_internal, False),
    "ext-shared": (_ext_shared, True),
    "pending-ext-shared": (_pending_ext_shared, True),
    "guest-holding": (_guest, True),
    "single-channel-guest-holding": (_single_channel_guest, True),
    "customer-contact-holding": (_customer_contact, True),
    "info-error": (_info_error, True),
    "members-error": (_members_error, True),
    "channel-not-found": (_unknown_channel, True),
}


def _digests(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    """Weekly digests that landed in ``channel``, by the ledger key they carry (not "project created")."""
    return [
        m
        for m in fake.posted(channel)
        if str(((m.get("metadata") or {}).get("event_payload") or {}).get("key", "")).startswith("digest:")
    ]


def _digest_posts(slack: SlackHarness) -> list[tuple[str, str]]:
    with slack.db.read() as session:
        return [(d.key, d.channel) for d in session.scalars(select(Delivery).order_by(Delivery.id))]


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("where", ["project channel", "report channel"])
def test_internal_posts_follow_the_one_audience_policy(project: SlackHarness, case: str, where: str) -> None:
    set_up, shared = CASES[case]
    _add_contact(project, "UCUST")
    channel = "CPROJ" if where == "project channel" else "CREPORT"
    if where == "report channel":
        _set_project(project, report_channel_id="CREPORT")
        project.fake.add_channel("CPROJ")  # internal, but a report channel is set: it is not used
        project.fake.add_user("UALICE")
    set_up(project.fake, channel)

    report = _runner(project).run([digest.plan], JobContext(now=SLOT))

    assert (report.sent, report.pending, report.failed) == (1, 0, 0)
    key = f"digest:{TEAM}:ACME:2026-W48:1"
    if shared:
        assert _digest_posts(project) == [(f"{key}:UALICE", "UALICE")]
        assert _digests(project.fake, channel) == [] and len(_digests(project.fake, "UALICE")) == 1
    else:
        assert _digest_posts(project) == [(key, channel)]
        assert len(_digests(project.fake, channel)) == 1 and project.fake.posted("UALICE") == []
    assert _digests(project.fake, "CPROJ" if where == "report channel" else "CREPORT") == []


def test_members_are_read_page_by_page_and_people_are_asked_once(project: SlackHarness) -> None:
    members = [f"U{n:04d}" for n in range(450)]
    for member in members[:-1]:
        project.fake.add_user(member)
    project.fake.add_user(members[-1], is_restricted=True)  # on the third page
    project.fake.add_channel("CPROJ", members=members)

    _runner(project).run([digest.plan], JobContext(now=SLOT))

    pages = project.fake.calls_to("conversations.members")
    assert [c.args.get("cursor") for c in pages] == [None, "200", "400"]
    assert _digests(project.fake, "CPROJ") == [] and len(_digests(project.fake, "UALICE")) == 1
    assert len(project.fake.calls_to("users.info")) == 450
    # What Slack said is kept in the directory: the next run asks nobody.
    with project.db.read() as session:
        guests = session.scalars(select(Person.user_id).where(Person.is_guest.is_(True))).all()
    assert guests == [members[-1]]
    project.fake.reset_calls()
    later = datetime(2026, 11, 30, 9, 0, tzinfo=SLOT.tzinfo)
    _runner(project, later).run([digest.plan], JobContext(now=later))
    assert project.fake.calls_to("users.info") == []
    assert len(_digests(project.fake, "UALICE")) == 2


def test_a_dry_run_asks_slack_nothing_and_treats_every_channel_as_shared(project: SlackHarness) -> None:
    _internal(project.fake, "CPROJ")
    project.fake.reset_calls()
    report = _runner(project).dry_run([digest.plan], JobContext(now=SLOT))
    assert report.planned == 1 and "→ UALICE" in report.lines[0]
    assert project.fake.calls == []
    assert _digest_posts(project) == []


@pytest.mark.parametrize(
    ("member", "shared"),
    [
        ({"team_id": "T0002", "enterprise_id": "E0001"}, False),  # a colleague of a sibling Grid workspace
        ({"team_id": "T0002", "enterprise_id": "E0001", "is_restricted": True}, True),  # a guest there
        ({"team_id": "TCUST", "enterprise_id": "E0999"}, True),  # another organisation's Grid
        ({"team_id": "TCUST"}, True),  # another organisation
        ({"is_stranger": True}, True),
    ],
)
def test_the_one_rule_decides_whether_a_grid_channel_is_shared(
    project: SlackHarness, member: dict[str, Any], shared: bool
) -> None:
    _set_project(project, enterprise_id="E0001")
    project.fake.add_user("UALICE")
    project.fake.add_user("UOTHER", **member)
    project.fake.add_channel("CPROJ", members=["UALICE", "UOTHER"])

    _runner(project).run([digest.plan], JobContext(now=SLOT))

    assert [c.args["user"] for c in project.fake.calls_to("users.info")] == ["UALICE", "UOTHER"]
    if shared:
        assert _digests(project.fake, "CPROJ") == [] and len(_digests(project.fake, "UALICE")) == 1
    else:
        assert len(_digests(project.fake, "CPROJ")) == 1 and project.fake.posted("UALICE") == []


def test_a_sibling_workspace_colleague_known_to_the_directory_is_not_asked_again(
    project: SlackHarness,
) -> None:
    _set_project(project, enterprise_id="E0001")
    with project.db.write() as session:
        for user_id, home in (("UALICE", TEAM), ("USIB", "T0002")):
            session.add(
                Person(
                    team_id=TEAM,
                    user_id=user_id,
                    home_team_id=home,
                    home_enterprise_id="E0001",
                    is_guest=False,
                )
            )
    project.fake.add_channel("CPROJ", members=["UALICE", "USIB"])

    _runner(project).run([digest.plan], JobContext(now=SLOT))

    assert project.fake.calls_to("users.info") == []
    assert len(_digests(project.fake, "CPROJ")) == 1
