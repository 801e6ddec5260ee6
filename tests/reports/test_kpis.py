"""The KPIs and workload, each computed by one function, and the same figure wherever it shows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.blocks.closure import report_message
from bot.domain.digest import weekly_digest
from bot.domain.kpis import (
    issue_satisfaction,
    on_time,
    resolution_time,
    risk_exposure,
    risk_score,
    satisfaction_at,
)
from bot.domain.retrospective import retrospective
from bot.domain.status import project_status
from bot.domain.workload import workload
from tests.harness import TEAM, SlackHarness
from tests.reports.test_digest import SLOT, _acme, _build, _plan, _set_project, at

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_on_time_counts_the_day_done_in_the_project_time_zone() -> None:
    due = date(2026, 11, 23)
    late_evening = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # already the 24th in Shanghai
    figure = on_time([(DAY, due), (late_evening, due)], UTC)
    assert (figure.on_time, figure.with_due_date, figure.rate) == (2, 2, 1.0)
    figure = on_time([(DAY, due), (late_evening, due)], SHANGHAI)
    assert (figure.on_time, figure.with_due_date, figure.rate) == (1, 2, 0.5)
    assert on_time([], UTC).rate is None


def test_resolution_time_is_the_median_from_logging_to_resolution() -> None:
    figure = resolution_time(
        [(DAY, DAY + timedelta(days=1)), (DAY, DAY + timedelta(days=4)), (DAY, DAY + timedelta(days=2))]
    )
    assert (figure.resolved, figure.median) == (3, timedelta(days=2))
    even = resolution_time([(DAY, DAY + timedelta(days=2)), (DAY, DAY + timedelta(days=3))])
    assert even.median == timedelta(days=2, hours=12)
    assert resolution_time([]) == resolution_time(iter([]))
    assert resolution_time([]).median is None and resolution_time([]).resolved == 0


def test_risk_exposure_sums_scores_and_counts_unscored_risks_as_zero() -> None:
    assert risk_score(4, 5) == 20 and risk_score(None, 5) is None and risk_score(3, None) is None
    exposure = risk_exposure([(4, 5), (2, 3), (None, 5), (None, None)])
    assert (exposure.score, exposure.open_risks) == (26, 4)
    assert (risk_exposure([]).score, risk_exposure([]).open_risks) == (0, 0)


def test_satisfaction_is_the_latest_survey_closed_by_then() -> None:
    history = [(DAY, 3.0), (DAY + timedelta(days=7), 4.5)]
    assert satisfaction_at(history) == 4.5
    assert satisfaction_at(history, DAY + timedelta(days=7)) == 4.5
    assert satisfaction_at(history, DAY + timedelta(days=6)) == 3.0
    assert satisfaction_at(history, DAY - timedelta(seconds=1)) is None
    assert satisfaction_at([]) is None


def test_issue_satisfaction_averages_the_answers_given_by_then() -> None:
    answers = [(DAY, 5), (DAY + timedelta(days=1), 2), (DAY + timedelta(days=2), 4)]
    assert issue_satisfaction(answers) == issue_satisfaction(answers, before=DAY + timedelta(days=2))
    whole = issue_satisfaction(answers)
    assert (whole.average, whole.count) == (11 / 3, 3)
    early = issue_satisfaction(answers, before=DAY + timedelta(hours=1))
    assert (early.average, early.count) == (5.0, 1)
    assert issue_satisfaction([]).average is None


def test_workload_is_the_same_from_rows_or_from_groups() -> None:
    per_record = [
        ("UBOB", "task", 1, 30.0),
        ("UBOB", "task", 1, 12.5),
        ("UBOB", "issue", 1, 8.0),  # an issue's estimate does not count
        ("UCAROL", "issue", 1, None),
        (None, "task", 1, 3.0),
        (None, "issue", 1, None),
    ]
    grouped = [
        ("UBOB", "task", 2, 42.5),
        ("UBOB", "issue", 1, 8.0),
        ("UCAROL", "issue", 1, 0),
        (None, "task", 1, 3.0),
        (None, "issue", 1, 0),
    ]
    assert workload(per_record) == workload(grouped)
    work = workload(per_record)
    assert [(w.user_id, w.tasks, w.issues, w.estimate_hours, w.overloaded) for w in work.people] == [
        ("UBOB", 2, 1, 42.5, True),  # busiest first
        ("UCAROL", 0, 1, 0.0, False),
    ]
    assert work.unassigned == 2
    ties = workload([("UZED", "task", 1, 1.0), ("UANN", "task", 1, 1.0), ("UMAX", "task", 1, 2.0)])
    assert [w.user_id for w in ties.people] == ["UMAX", "UANN", "UZED"]


def test_the_same_figure_shows_the_same_value_on_status_digest_and_retrospective(
    project: SlackHarness,
) -> None:
    _set_project(project, created_at=at(2026, 9, 1))  # so that the week at SLOT has a digest
    _build(project)
    acme = _acme(project)
    with project.db.read() as session:
        status = project_status(session, team_id=TEAM, project_id=acme.id, now=SLOT)
        week = weekly_digest(session, project=acme, slot=SLOT, now=SLOT)
        report = retrospective(session, team_id=TEAM, project_id=acme.id, now=SLOT)
    # Workload: /project status and the digest.
    assert status.workload == week.workload
    assert [(w.user_id, w.tasks, w.issues, w.estimate_hours) for w in status.workload] == [
        ("UBOB", 1, 0, 10.0),
        ("UCAROL", 0, 1, 0.0),
    ]
    # On-time rate and resolution time: the digest (its 90 days hold the whole project) and the retrospective.
    assert (week.kpis.on_time, week.kpis.with_due_date) == (report.tasks_on_time, report.tasks_with_due_date)
    assert week.kpis.on_time_rate == report.on_time_rate == 2 / 3
    assert (week.kpis.issues_closed, week.kpis.median_resolution) == (
        report.issues_resolved,
        report.median_resolution,
    )
    assert report.median_resolution == timedelta(days=2, hours=12)
    # ... and as people read them.
    (item,) = _plan(project, SLOT, project_key="ACME")
    _text, blocks = report_message(report, file_name="ACME.md")
    shown = str(blocks)
    assert "• Tasks done on time: 67% (2 of 3)" in item.text and "67% (2 of 3)" in shown
    assert "• Median issue resolution time: 2.5 days" in item.text and "2.5 days" in shown
    project.command("/project", "status")
    assert "<@UBOB>: tasks: 1 · issues: 0 · estimated: 10h" in project.last_ephemeral()
    assert "<@UBOB>: tasks: 1 · issues: 0 · estimated: 10h" in item.text
