"""The weekly digest's chart: its figures, its private upload, and the image block that shows it."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import warnings
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.blocks.charts import alt_text, render_png
from bot.delivery.base import JobContext
from bot.domain.charts import ChartSeries, WeekPoint
from bot.jobs import digest
from storage import ledger
from storage.models import Delivery, Project, Survey, SurveyResponse
from tests.harness import SlackHarness, job_runner

# Monday 9 November 2026, 09:00 UTC: ACME's digest slot (ISO week 46), its week from Monday 2 November.
SLOT = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
KEY = "digest:T0001:ACME:2026-W46:1"
EXPECTED = [  # (week, open at its end, done during it); the first week from the project's creation on
    ("W41", 0, 0),
    ("W42", 1, 0),
    ("W43", 1, 0),
    ("W44", 0, 1),
    ("W45", 1, 0),
    ("W46", 1, 1),
]


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def _do(slack: SlackHarness, when: datetime, command: str, text: str) -> None:
    slack.services.clock = lambda: when
    assert slack.command(command, text).status == 200


def _survey(slack: SlackHarness, closed_at: datetime, scores: list[int]) -> None:
    with slack.db.write() as session:
        project = session.scalar(select(Project).where(Project.key == "ACME"))
        assert project is not None
        survey = Survey(team_id=project.team_id, project_id=project.id, kind="on_demand", status="closed",
                        created_at=closed_at, closes_at=closed_at, closed_at=closed_at)  # fmt: skip
        session.add(survey)
        session.flush()
        for n, score in enumerate(scores):
            session.add(SurveyResponse(survey_id=survey.id, team_id=project.team_id, secret_hash=f"{closed_at.isoformat()}-{n}",
                                       score=score, created_at=closed_at, updated_at=closed_at))  # fmt: skip


@pytest.fixture
def weeks(project: SlackHarness) -> SlackHarness:
    """ACME, created Thursday 1 October: its first (partial) week and five whole weeks before the slot."""
    with project.db.write() as session:
        session.execute(
            update(Project).where(Project.key == "ACME").values(created_at=at(10, 1), timezone="UTC")
        )
    _do(project, at(10, 5), "/task", "new Write the manual")  # ACME-1: open W42, W43; done in W44
    _do(project, at(10, 20), "/task", "done ACME-1")
    _do(project, at(10, 27), "/issue", "new Printer jams")  # ACME-2: open from W45 on
    _do(project, at(11, 3), "/req", "new CSV export")  # ACME-3: delivered in W46
    _do(project, at(11, 5), "/req", "deliver ACME-3")
    _survey(project, at(10, 21), [4, 5])  # 4.5 from W44 on
    _survey(project, at(11, 4), [3])  # 3.0 in W46
    project.fake.reset_calls()
    return project


def _stored(slack: SlackHarness) -> Delivery:
    with slack.db.read() as session:
        found = ledger.by_key(session, key=KEY)
        assert found is not None
        session.expunge(found)
        return found


def _digests(slack: SlackHarness) -> list[dict[str, Any]]:
    """Digest messages that landed in Slack."""
    return [m for m in slack.fake.posted() if "Weekly digest" in str(m.get("text"))]


def _blocks(call: Any) -> list[dict[str, Any]]:
    blocks = call.args["blocks"]
    return list(json.loads(blocks) if isinstance(blocks, str) else blocks)


def test_the_series_is_the_digest_figures_week_by_week(weeks: SlackHarness) -> None:
    with weeks.db.read() as session:
        (planned,) = digest.plan(session, JobContext(now=SLOT, project_key="ACME"))
    assert planned.chart is not None
    series = ChartSeries.from_json(planned.chart["series"])
    assert [(w.label, w.open, w.done) for w in series.weeks] == EXPECTED
    assert [w.satisfaction for w in series.weeks] == [None, None, None, 4.5, 4.5, 3.0]
    # Least squares through 0, 1, 1, 0, 1, 1: slope 2/17.5 a week around the mean 2/3.
    assert [w.trend for w in series.weeks] == [0.38, 0.5, 0.61, 0.72, 0.84, 0.95]
    assert series.service_levels is None  # no service levels yet: nothing drawn, nothing made up


def test_the_digest_carries_its_chart_uploaded_privately(weeks: SlackHarness) -> None:
    report = job_runner(weeks, SLOT).run([digest.plan], JobContext(now=SLOT))
    assert (report.sent, report.pending, report.failed) == (1, 0, 0)
    (started,) = weeks.fake.calls_to("files.getUploadURLExternal")
    assert started.args["filename"] == "ACME-2026-W46.png"
    (completed,) = weeks.fake.calls_to("files.completeUploadExternal")
    assert "channel_id" not in completed.args  # private: shared nowhere, shown by the image block
    (private,) = weeks.fake.private_files()
    assert private["content"].startswith(b"\x89PNG")
    assert weeks.fake.calls_to("files.info")  # looked for before the message refers to it
    (posted,) = weeks.fake.calls_to("chat.postMessage")
    image = _blocks(posted)[-1]
    assert image["type"] == "image" and image["slack_file"] == {"id": private["id"]}
    assert image["alt_text"].startswith(
        "Open vs done per week: W41 open 0 done 0, W42 open 1 done 0, W43 open 1 done 0, W44 open 0 done 1, W45 open 1 done 0, "
        "W46 open 1 done 1."
    )
    assert "Open work trend: rising. Satisfaction (1-5): W44 4.5, W45 4.5, W46 3.0." in image["alt_text"]
    assert _stored(weeks).file_id == private["id"]


def test_an_in_doubt_send_reuses_its_file(weeks: SlackHarness) -> None:
    weeks.fake.fail("chat.postMessage", status=500)  # refused: not posted, in doubt
    first = job_runner(weeks, SLOT).run([digest.plan], JobContext(now=SLOT))
    assert first.pending == 1
    file_id = _stored(weeks).file_id
    assert file_id is not None
    later = datetime(2026, 11, 9, 11, 0, tzinfo=UTC)
    second = job_runner(weeks, later).run([digest.plan], JobContext(now=later))
    assert second.sent == 1
    assert len(weeks.fake.calls_to("files.getUploadURLExternal")) == 1  # never uploaded twice
    (posted,) = _digests(weeks)
    assert posted["blocks"][-1]["slack_file"] == {"id": file_id}


def test_without_files_write_the_digest_goes_without_its_chart(
    weeks: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    weeks.fake.state.scopes = tuple(s for s in weeks.fake.state.scopes if s != "files:write")
    with caplog.at_level(logging.WARNING, logger="aftercare.jobs"):
        report = job_runner(weeks, SLOT).run([digest.plan], JobContext(now=SLOT))
    assert report.sent == 1
    (posted,) = weeks.fake.calls_to("chat.postMessage")
    assert all(block["type"] != "image" for block in _blocks(posted))
    assert [r.getMessage() for r in caplog.records if "chart" in r.getMessage()] == [
        f"chart of {KEY} not uploaded (missing_scope); sent without it"
    ]
    assert weeks.fake.calls_to("files.completeUploadExternal") == []


def test_invalid_blocks_sends_the_message_without_the_picture(
    weeks: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Slack loses the file between files.info and the post: the image block is refused.
    original = weeks.fake.answer

    def answer(method: str, args: dict[str, Any], *, token: str = "") -> Any:
        if method == "chat.postMessage":
            with weeks.fake.state.lock:
                for upload in weeks.fake.state.files.values():
                    upload["deleted"] = True
        return original(method, args, token=token)

    monkeypatch.setattr(weeks.fake, "answer", answer)
    report = job_runner(weeks, SLOT).run([digest.plan], JobContext(now=SLOT))
    assert report.sent == 1
    refused, sent = weeks.fake.calls_to("chat.postMessage")
    assert _blocks(refused)[-1]["type"] == "image"
    assert _blocks(sent) == _blocks(refused)[:-1]
    (message,) = _digests(weeks)
    assert all(block["type"] != "image" for block in message["blocks"])
    assert weeks.fake.invalid == [
        (
            "chat.postMessage",
            [
                f"block {len(_blocks(sent))} (image): slack_file "
                f"{_stored(weeks).file_id} is not a file the bot can see"
            ],
        )
    ]
    weeks.fake.invalid.clear()  # refused on purpose


def test_a_dry_run_renders_nothing_and_calls_no_one(
    weeks: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.delivery.charts as charts

    drawn: list[Any] = []

    def render_png(*args: Any) -> bytes:
        drawn.append(args)
        return b""

    monkeypatch.setattr(charts, "render_png", render_png)
    report = job_runner(weeks, SLOT).dry_run([digest.plan], JobContext(now=SLOT))
    assert report.planned == 1 and "Weekly digest" in report.lines[0]
    assert drawn == []
    assert weeks.fake.calls == []
    # The same patch sees a real send draw (so the dry run's empty list means something).
    job_runner(weeks, SLOT).run([digest.plan], JobContext(now=SLOT))
    assert len(drawn) == 1


def test_the_cli_and_the_listeners_do_not_import_matplotlib() -> None:
    code = (
        "import sys, bot.ops.cli, bot.slack.app, bot.jobs.digest, bot.delivery.runner, bot.jobs.closing; "
        "sys.exit('matplotlib' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_no_chart_before_two_weeks_of_history(project: SlackHarness) -> None:
    with project.db.write() as session:
        session.execute(
            update(Project).where(Project.key == "ACME").values(created_at=at(10, 28), timezone="UTC")
        )
    _do(project, at(10, 29), "/task", "new Something")
    with project.db.read() as session:
        (planned,) = digest.plan(session, JobContext(now=SLOT, project_key="ACME"))
    assert planned.chart is None  # 12 days old


def test_a_chinese_chart_draws_every_glyph() -> None:
    series = ChartSeries(weeks=(WeekPoint("W45", 3, 1, 3.0, 4.0), WeekPoint("W46", 2, 2, 2.0, None)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_png(series, "zh-CN")
    assert png.startswith(b"\x89PNG")
    assert [str(w.message) for w in caught if "missing" in str(w.message).lower()] == []
    text = alt_text(series, "zh-CN")
    assert text.startswith("每周未完成与已完成：W45 未完成 3 完成 1，W46 未完成 2 完成 2。")


def no_chart(monkeypatch: pytest.MonkeyPatch) -> None:
    """The closing report without its chart (for tests of the report's own file upload)."""
    import bot.jobs.closing as closing

    monkeypatch.setattr(closing, "_chart", lambda *_args: None)


def test_the_retrospective_carries_the_project_weeks_as_a_chart(project: SlackHarness) -> None:
    from tests.projects.test_closure import CLOSED, close

    with project.db.write() as session:
        session.execute(update(Project).where(Project.key == "ACME").values(created_at=at(11, 2, 8)))
    _do(project, at(11, 3), "/task", "new Install the printer")  # ACME-1: done in the week to 24 Nov
    _do(project, at(11, 20), "/task", "done ACME-1")
    _do(project, at(11, 10), "/issue", "new Paper jams")  # ACME-2: open from the week to 17 Nov on
    project.fake.reset_calls()
    close(project)
    (private,) = project.fake.private_files()
    assert private["filename"] == "ACME-2026-12-01.png"
    (report,) = [
        c for c in project.fake.calls_to("chat.postMessage") if "Retrospective" in str(c.args["text"])
    ]
    image = _blocks(report)[-1]
    assert image["slack_file"] == {"id": private["id"]}
    # Weeks ending at the closing instant (Tuesday 1 December 10:00), back to the project's start.
    assert image["alt_text"].startswith(
        "Open vs done per week: W45 open 0 done 0, W46 open 1 done 0, W47 open 2 done 0, W48 open 1 done 1, "
        "W49 open 1 done 0."
    )
    assert at(12, 1, 10) == CLOSED


def test_the_message_waits_until_slack_shows_the_file(weeks: SlackHarness) -> None:
    weeks.fake.fail("files.info", error="file_not_found")  # completed, but not seen yet
    first = job_runner(weeks, SLOT).run([digest.plan], JobContext(now=SLOT))
    assert (first.sent, first.pending) == (0, 1)
    assert weeks.fake.calls_to("chat.postMessage") == []
    stored = _stored(weeks)
    assert (stored.status, stored.error) == ("pending", "waiting_for_chart_file") and stored.file_id
    later = datetime(2026, 11, 9, 9, 5, tzinfo=UTC)
    second = job_runner(weeks, later).run([digest.plan], JobContext(now=later))
    assert second.sent == 1
    assert len(weeks.fake.calls_to("files.getUploadURLExternal")) == 1
    (posted,) = _digests(weeks)
    assert posted["blocks"][-1]["slack_file"] == {"id": stored.file_id}
