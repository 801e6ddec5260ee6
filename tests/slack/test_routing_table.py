"""INTERFACE.md "Where posts go", as one table: every post kind × project channel × report channel.

Real job runs (digest, risk review, customer report) and a real closing (retrospective, closing summary)
against the strict stand-in; the posts other parts build (survey results, SLA breach, triage card) call
the same policy function, :func:`bot.delivery.audience.internal_targets`, tested here as they will call it.
Then ``channel_shared``: the owners are told once that earlier internal posts there are now visible.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.delivery.audience import SharedChannels, internal_targets, project_audience
from bot.delivery.runner import job_client_factory
from bot.demo.simulator import FakeSlack
from bot.jobs import risk_review
from bot.jobs.closing import close_project, deliver_report
from bot.slack.services import Services
from storage.models import Delivery, MemberRole, Project, ProjectMember, Record
from tests.harness import HARNESS_NOW, TEAM, SlackHarness, run_job

SLOT = HARNESS_NOW  # Monday 09:00 UTC: ACME's digest (and, set below, risk review) slot
DM = "owners by DM"
NOWHERE = "not posted"


def _internal(fake: FakeSlack) -> None:
    fake.add_channel("CPROJ", members=["UALICE", "UBOB"])


def _ext_shared(fake: FakeSlack) -> None:
    fake.add_channel("CPROJ", is_ext_shared=True, members=["UALICE", "UOTHER"])


def _pending(fake: FakeSlack) -> None:
    fake.add_channel("CPROJ", is_pending_ext_shared=True, members=["UALICE"])


def _guest(fake: FakeSlack) -> None:
    fake.add_user("UGUEST", is_restricted=True)
    fake.add_channel("CPROJ", members=["UALICE", "UGUEST"])


def _contact(fake: FakeSlack) -> None:
    fake.add_channel("CPROJ", members=["UALICE", "UCUST"])  # UCUST: a member here, but a customer contact


def _unknown(fake: FakeSlack) -> None:
    """Slack cannot say what CPROJ is (every conversations.info about it fails); other channels answer."""
    fake.add_channel("CPROJ", members=["UALICE", "UBOB"])

    def info(args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel") == "CPROJ":
            return {"ok": False, "error": "internal_error"}
        return {"ok": True, "channel": fake.state.channels[str(args.get("channel"))].info()}

    fake.responders["conversations.info"] = info


PROJECT_CHANNELS: dict[str, Callable[[FakeSlack], None]] = {
    "internal": _internal,
    "shared": _ext_shared,
    "pending": _pending,
    "guest-holding": _guest,
    "contact-holding": _contact,
    "unknown": _unknown,
}
REPORT_CHANNELS = ("none", "internal", "shared")


def expected(kind: str, project_channel: str, report_channel: str) -> str:
    """The table of INTERFACE.md "Where posts go"."""
    internal = project_channel == "internal"
    if kind == "customer report":
        return NOWHERE if internal else "CPROJ"
    if kind == "closing summary":
        return "CPROJ"
    # digest, risk review, survey results, retrospective, SLA breach, triage card
    if report_channel == "internal":
        return "CREPORT"
    if report_channel == "shared":
        return DM
    return "CPROJ" if internal else DM


@pytest.fixture
def acme(project: SlackHarness) -> SlackHarness:
    """ACME with a week of history, an open risk, a task in progress, its review due with its digest."""
    assert project.command("/risk", "new Vendor delay p:4 i:5").status == 200
    assert project.command("/task", "new Install the driver").status == 200
    assert project.command("/task", "start ACME-2").status == 200
    with project.db.write() as session:
        session.execute(
            update(Project).values(created_at=SLOT - timedelta(days=7), review_weekday=0, review_time="09:00")
        )
        session.execute(update(Record).values(created_at=SLOT - timedelta(days=1)))
        acme_id = session.scalar(select(Project.id))
        session.add(
            ProjectMember(team_id=TEAM, project_id=acme_id, user_id="UCUST", role=MemberRole.CUSTOMER_CONTACT)
        )
    project.fake.add_user("UOTHER", team_id="TOTHER")
    project.fake.reset_calls()
    return project


def _services(slack: SlackHarness) -> Services:
    return Services(settings=slack.settings, db=slack.db, clock=lambda: SLOT)


def _where(slack: SlackHarness, prefix: str) -> str:
    """Where the ledger sent the posts whose key starts with ``prefix`` (one place, or "not posted")."""
    with slack.db.read() as session:
        rows = list(session.scalars(select(Delivery).where(Delivery.key.startswith(prefix))))
    assert all(d.status == "sent" for d in rows), [(d.key, d.status, d.error) for d in rows]
    channels = {d.channel for d in rows}
    if not channels:
        return NOWHERE
    if channels == {"UALICE"}:
        return DM
    [channel] = channels
    return channel


def _policy(slack: SlackHarness) -> str:
    """Where the policy sends an internal post built elsewhere (survey results, SLA breach, triage card)."""
    services = _services(slack)
    with services.db.read() as session:
        audience = project_audience(session, project_id=session.scalar(select(Project.id)) or 0)
    assert audience is not None
    targets = internal_targets(audience, SharedChannels(services, job_client_factory(services)))
    return targets.channel or DM


@pytest.mark.parametrize("report_channel", REPORT_CHANNELS)
@pytest.mark.parametrize("project_channel", list(PROJECT_CHANNELS))
def test_every_post_goes_where_the_table_says(
    acme: SlackHarness, project_channel: str, report_channel: str
) -> None:
    fake = acme.fake
    PROJECT_CHANNELS[project_channel](fake)
    if report_channel != "none":
        fake.add_channel("CREPORT", is_ext_shared=report_channel == "shared", members=["UALICE"])
        with acme.db.write() as session:
            session.execute(update(Project).values(report_channel_id="CREPORT"))

    run_job(acme, "digest", SLOT)
    run_job(acme, "risk-review", SLOT)
    policy = _policy(acme)
    with acme.db.read() as session:
        owner = session.scalar(select(Project.created_by))
        project_id = session.scalar(select(Project.id))
    assert owner == "UALICE" and project_id is not None
    closing = close_project(
        _services(acme),
        team_id=TEAM,
        project_id=project_id,
        user_id="UALICE",
        summary="Done",
        lessons="Internal",
    )
    deliver_report(_services(acme), closing)

    seen = {
        "digest": _where(acme, f"digest:{TEAM}:ACME:"),
        "risk review": _where(acme, f"{risk_review.KIND}:{TEAM}:ACME:"),
        "customer report": _where(acme, f"customer_report:{TEAM}:ACME:"),
        "retrospective": _where(acme, f"retrospective:{TEAM}:ACME:"),
        "closing summary": _where(acme, f"closing_summary:{TEAM}:ACME:"),
        "survey results": policy,
        "SLA breach": policy,
        "triage card": policy,
    }
    assert seen == {kind: expected(kind, project_channel, report_channel) for kind in seen}
    # Nothing internal ever landed in a channel that is not internal.
    if project_channel != "internal":
        keys = [
            str(((m.get("metadata") or {}).get("event_payload") or {}).get("key", ""))
            for m in fake.posted("CPROJ")
        ]
        assert not [k for k in keys if k.startswith(("digest:", "review:", "retrospective:"))]


def test_channel_shared_tells_the_owners_once(acme: SlackHarness) -> None:
    _internal(acme.fake)
    event = {"type": "channel_shared", "connected_team_id": "TOTHER", "channel": "CPROJ", "event_ts": "1.0"}

    acme.event(event, event_id="Ev1")
    acme.event(event, event_id="Ev2")  # shared with a second organisation, or Slack's retry: once is enough

    notices = [
        m["text"] for m in acme.fake.posted("UALICE") if "now shared with another organisation" in m["text"]
    ]
    assert notices == [
        "<#CPROJ> (project ACME) is now shared with another organisation: the internal posts I made there "
        "before (digests, risk reviews, reports) are now visible to them. From now on, internal posts go to "
        "the report channel if it is internal, else to you by DM."
    ]
    assert [m for m in acme.fake.posted("UBOB")] == []  # not an owner


def test_channel_shared_about_a_channel_of_no_project_says_nothing(acme: SlackHarness) -> None:
    acme.fake.add_channel("CRANDOM", members=["UALICE"])
    acme.event(
        {"type": "channel_shared", "connected_team_id": "TOTHER", "channel": "CRANDOM", "event_ts": "1.0"}
    )
    assert acme.fake.calls_to("chat.postMessage") == []
