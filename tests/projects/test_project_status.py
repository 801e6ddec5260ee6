"""`/project status`: open and overdue counts, workload, top risks — checked against a known data set."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, update

from bot.domain.people import upsert_member
from bot.domain.status import KindCount, RiskLine, Workload, project_status
from storage.models import Kind, Project, Record
from tests.harness import TEAM, SlackHarness
from tests.projects.test_closure import close

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday; already Friday 01:00 in Auckland


def _set(slack: SlackHarness, key: str, **values: Any) -> None:
    with slack.db.write() as session:
        session.execute(update(Record).where(Record.key == key).values(**values))


def _build(slack: SlackHarness) -> None:
    """The data set: every line says what it must count as."""
    slack.services.clock = lambda: NOW
    cmd = slack.command
    cmd("/task", "new Write docs <@UBOB|bob> due:2026-11-01 est:30h")  # 1 open, overdue
    cmd("/task", "new Deploy <@UBOB|bob> due:2026-12-10 est:12h")  # 2 open
    cmd("/task", "new Old chore <@UBOB|bob> due:2026-01-01 est:100h")  # 3 done
    cmd("/task", "new Unowned task due:2026-11-25 est:3h")  # 4 open, overdue, unassigned
    cmd("/issue", "new Printer jams <@UCAROL|carol> due:2026-11-26")  # 5 open, due today
    cmd("/issue", "new Fixed bug <@UCAROL|carol> due:2026-11-02")  # 6 resolved: open, overdue
    cmd("/issue", "new Closed bug <@UCAROL|carol> due:2026-11-02")  # 7 closed
    cmd("/issue", "new Deleted bug <@UCAROL|carol> due:2026-11-02")  # 8 deleted
    for n in range(9):  # 9-17 open
        cmd("/issue", f"new Ticket {n} <@UCAROL|carol>")
    cmd("/req", "new Export to PDF due:2026-11-20")  # 18 open, overdue
    cmd("/req", "new Dark mode")  # 19 accepted
    cmd("/req", "new Old req due:2026-10-01")  # 20 delivered
    cmd("/risk", "new Vendor &amp; co &lt;delay&gt; p:4 i:5")  # 21 score 20
    cmd("/risk", "new Key person leaves <@UBOB|bob> p:2 i:2")  # 22 score 4
    cmd("/risk", "new Tiny p:1 i:1")  # 23 score 1
    cmd("/risk", "new Budget cut p:3 i:3")  # 24 score 9, mitigating
    cmd("/risk", "new Data loss p:3 i:4 due:2026-11-01")  # 25 score 12, overdue
    cmd("/risk", "new Unclear scope p:2 i:3")  # 26 score 6
    cmd("/risk", "new Fire p:5 i:5")  # 27 closed
    cmd("/risk", "new Unscored")  # 28 no score
    assert len(slack.records()) == 28
    _set(slack, "ACME-3", status="done")
    _set(slack, "ACME-6", status="resolved")
    _set(slack, "ACME-7", status="closed")
    _set(slack, "ACME-8", deleted_at=NOW)
    _set(slack, "ACME-19", status="accepted")
    _set(slack, "ACME-20", status="delivered")
    _set(slack, "ACME-24", status="mitigating")
    _set(slack, "ACME-27", status="closed")
    # Another project's work never counts.
    cmd("/project", "new BETA Beta", channel="C2")
    cmd("/task", "new Elsewhere <@UBOB|bob> due:2026-01-01 est:50h", channel="C2")
    slack.fake.reset_calls()


@pytest.fixture
def data(project: SlackHarness) -> SlackHarness:
    _build(project)
    return project


def _snapshot(slack: SlackHarness, viewer: str | None = None) -> Any:
    with slack.db.read() as session:
        project_id = session.query(Project.id).filter(Project.key == "ACME").scalar()
        return project_status(session, team_id=TEAM, project_id=project_id, now=NOW, viewer_id=viewer)


def test_figures_of_the_snapshot(data: SlackHarness) -> None:
    snapshot = _snapshot(data)
    assert snapshot.today.isoformat() == "2026-11-26"
    assert snapshot.counts == (
        KindCount(Kind.REQUIREMENT, open=2, overdue=1),
        KindCount(Kind.ISSUE, open=11, overdue=1),
        KindCount(Kind.TASK, open=3, overdue=2),
        KindCount(Kind.RISK, open=7, overdue=1),
    )
    assert (snapshot.open_total, snapshot.overdue_total) == (23, 5)
    assert snapshot.workload == (
        Workload("UCAROL", tasks=0, issues=11, estimate_hours=0.0),
        Workload("UBOB", tasks=2, issues=0, estimate_hours=42.0),
    )
    assert [w.overloaded for w in snapshot.workload] == [True, True]
    assert snapshot.unassigned == 1
    assert [(r.key, r.score) for r in snapshot.top_risks] == [
        ("ACME-21", 20),
        ("ACME-25", 12),
        ("ACME-24", 9),
        ("ACME-26", 6),
        ("ACME-22", 4),
    ]
    assert snapshot.top_risks[0].title == "Vendor & co <delay>"
    assert snapshot.top_risks[2].status == "mitigating"
    assert snapshot.top_risks[4].owner_id == "UBOB"
    assert snapshot.internal


def test_overdue_is_read_in_the_project_time_zone(data: SlackHarness) -> None:
    with data.db.write() as session:
        session.execute(update(Project).where(Project.key == "ACME").values(timezone="Pacific/Auckland"))
    snapshot = _snapshot(data)
    assert snapshot.today.isoformat() == "2026-11-27"
    # ACME-5 was due on the 26th: not overdue in UTC, overdue in Auckland.
    assert snapshot.counts[1] == KindCount(Kind.ISSUE, open=11, overdue=2)


def test_the_command_shows_the_snapshot_only_to_the_person(data: SlackHarness) -> None:
    response = data.command("/project", "status", user="UDAVE")
    assert response.status == 200
    text = data.last_ephemeral()
    assert data.fake.calls_to("chat.postMessage") == []
    assert "*ACME* — Acme Corp after-sales" in text and "Nov 26, 2026" in text
    assert "• Requirements: 2 open · :warning: 1 overdue" in text
    assert "• Issues: 11 open · :warning: 1 overdue" in text
    assert "• Tasks: 3 open · :warning: 2 overdue" in text
    assert "• Risks: 7 open · :warning: 1 overdue" in text
    assert "<@UCAROL>: tasks: 0 · issues: 11 · estimated: 0h · :warning: *overloaded*" in text
    assert "<@UBOB>: tasks: 2 · issues: 0 · estimated: 42h · :warning: *overloaded*" in text
    assert text.index("<@UCAROL>") < text.index("<@UBOB>:")
    assert "Unassigned open tasks and issues: 1" in text
    risks = text[text.index("Top risks") :]
    assert [line.split("*")[1] for line in risks.splitlines()[1:]] == [
        "ACME-21",
        "ACME-25",
        "ACME-24",
        "ACME-26",
        "ACME-22",
    ]
    assert "Vendor &amp; co &lt;delay&gt; — Risk score: 20 (p4 × i5) · open" in text  # escaped
    assert "*ACME-24* Budget cut — Risk score: 9 (p3 × i3) · mitigating" in text


def test_a_customer_from_another_organisation_sees_counts_only(data: SlackHarness) -> None:
    with data.db.write() as session:
        upsert_member(session, team_id=TEAM, member={"id": "UCUST", "team_id": "TOTHER"}, now=NOW)
    data.command("/project", "status", user="UCUST")
    text = data.last_ephemeral()
    assert "• Issues: 11 open" in text
    assert "<@UCAROL>" not in text and "ACME-21" not in text
    assert "own team only" in text


def test_a_fixed_number_of_queries_whatever_the_data(data: SlackHarness) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(data.db.engine, "before_cursor_execute", count)
    try:
        _snapshot(data, viewer="UALICE")
    finally:
        event.remove(data.db.engine, "before_cursor_execute", count)
    # project id lookup (the test's own), project, counts, workload, risks, viewer
    assert len(statements) <= 6, statements


def test_an_empty_project_and_an_unlinked_channel(project: SlackHarness) -> None:
    project.command("/project", "status")
    text = project.last_ephemeral()
    assert "• Tasks: 0 open" in text and "overdue" not in text.split("Workload")[0]
    assert "Nobody has open tasks or issues assigned." in text and "No open risks." in text
    project.command("/project", "status", channel="C9")
    assert "isn't linked to a project" in project.last_ephemeral()


def test_a_closed_project_still_has_a_status(project: SlackHarness) -> None:
    close(project, now=None)
    project.command("/project", "status")
    assert "*ACME* — Acme Corp after-sales · closed" in project.last_ephemeral()


@pytest.mark.parametrize(
    ("tasks", "issues", "hours", "overloaded"),
    [(1, 0, 40.0, False), (1, 0, 40.5, True), (5, 5, 0.0, False), (6, 5, 0.0, True)],
)
def test_overload_limits(tasks: int, issues: int, hours: float, overloaded: bool) -> None:
    assert Workload("U1", tasks=tasks, issues=issues, estimate_hours=hours).overloaded is overloaded


def test_a_risk_without_probability_or_impact_has_no_score() -> None:
    assert RiskLine("ACME-1", "t", "open", None, 3, None).score is None
