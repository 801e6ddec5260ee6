"""``aftercare import``: export → import into an empty database → export gives the same records.

Also: key counters continue after the import, existing projects are refused unless
``--overwrite`` (which replaces them), malformed files stop with one line and write
nothing, and a large import goes through bulk inserts.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.demo.simulator import FakeSlack
from bot.ops.export import export_data, write_json
from bot.ops.importer import InvalidImport, import_data
from storage.db import Database
from storage.models import (
    Base,
    Document,
    HistoryEntry,
    MemberRole,
    Project,
    ProjectMember,
    Record,
    Survey,
    SurveyParticipant,
    SurveyResponse,
)
from tests.conftest import migrated_schema, truncate_all
from tests.harness import TEAM, SlackHarness
from tests.meetings.test_meetings import _values
from tests.ops.test_cli import output, run, run_all
from tests.projects.test_closure import build, close

LATER = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


# -- a second, empty database of the same kind as ``db`` ------------------------------------------------


@pytest.fixture(scope="module")
def pg_second() -> Iterator[str | None]:
    with migrated_schema("aftercare_import") as url:
        yield url


@pytest.fixture
def db2(
    db: Database, tmp_path: Path, sqlite_template: Path, request: pytest.FixtureRequest
) -> Iterator[Database]:
    if db.is_sqlite:
        path = tmp_path / "restored.db"
        shutil.copy(sqlite_template, path)
        second = Database(f"sqlite:///{path}")
    else:
        url = request.getfixturevalue("pg_second")
        assert url is not None
        second = Database(url)
        truncate_all(second)
    yield second
    second.dispose()


def exported(db: Database) -> dict[str, Any]:
    """The export as a user gets it (through JSON)."""
    with db.read() as session:
        return json.loads(write_json(export_data(session)))


def counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def restore(db: Database, data: dict[str, Any], *, overwrite: bool = False) -> str:
    with db.write() as session:
        return import_data(session, data, overwrite=overwrite).summary()


# -- a rich data set, built with real commands ----------------------------------------------------------


def _survey(slack: SlackHarness) -> None:
    """A closed survey with one signed and one anonymous answer (rows as the survey flow writes them)."""
    with slack.db.write() as session:
        acme = session.scalar(select(Project).where(Project.key == "ACME"))
        assert acme is not None
        survey = Survey(
            team_id=TEAM,
            project_id=acme.id,
            kind="on_demand",
            status="closed",
            include_team=False,
            created_by="UALICE",
            created_at=LATER,
            closes_at=LATER,
            closed_at=LATER,
        )
        session.add(survey)
        session.flush()
        for user, responded in (("UCUST", True), ("UCUST2", True), ("UCUST3", False)):
            session.add(
                SurveyParticipant(
                    survey_id=survey.id,
                    team_id=TEAM,
                    user_id=user,
                    role="customer",
                    secret_check=f"{user:0<64}"[:64] if responded else "",
                    responded=responded,
                    invited_at=LATER,
                    reminded_at=None,
                )
            )
        answers: list[tuple[int, str | None]] = [(5, "UCUST"), (3, None)]
        for n, (score, signed_by) in enumerate(answers):
            session.add(
                SurveyResponse(
                    survey_id=survey.id,
                    team_id=TEAM,
                    secret_hash=f"{n}" * 64,
                    score=score,
                    recommend=9,
                    comment="Fine" if signed_by else None,
                    user_id=signed_by,
                    created_at=LATER,
                    updated_at=LATER,
                )
            )


def build_everything(slack: SlackHarness) -> None:
    build(slack)  # 17 records and keys, a meeting, a scope change, a record from a message
    slack.services.clock = lambda: datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
    slack.command("/meeting", "new Weekly sync")
    items = [{"text": "Send minutes", "owner": "UBOB", "due": "2026-12-04"}, {"text": "Book room"}]
    view = slack.opened_view()
    values = _values(attendees=["UBOB", "UCUST"], notes="N", decisions="D", items=items)
    assert slack.submit_view(view, values).status == 200
    slack.command("/task", "comment ACME-19 Customer asked for a PDF")
    slack.command("/issue", "delete ACME-6")
    slack.command("/project", "link ACME", channel="C2")
    with slack.db.write() as session:
        session.execute(
            update(Project)
            .where(Project.key == "ACME")
            .values(
                digest_weekday=4,
                digest_time="17:30",
                nudges_enabled=False,
                survey_pulse_days=30,
                report_channel_id="CREPORT",
            )
        )
        acme_id = session.scalar(select(Project.id).where(Project.key == "ACME"))
        session.add(
            ProjectMember(team_id=TEAM, project_id=acme_id, user_id="UCUST", role=MemberRole.CUSTOMER_CONTACT)
        )
    assert close(slack).status == 200  # a retrospective document
    slack.services.clock = lambda: LATER
    slack.command("/project", "reopen")
    _survey(slack)
    slack.command("/project", "new BETA Beta rollout", channel="CBETA")
    slack.command("/risk", "new Vendor lock-in p:2 i:4", channel="CBETA")
    slack.executor.drain()


def test_export_import_export_gives_the_same_records(
    project: SlackHarness, db2: Database, fake_slack: FakeSlack
) -> None:
    build_everything(project)
    before = exported(project.db)
    # Every kind of row is there to be carried over.
    assert len(before["projects"]) == 2 and before["documents"] and before["surveys"]
    assert before["meetings"][-1]["action_items"] == ["ACME-19", "ACME-20"]
    assert any(h["field"] == "comment" for h in before["history"])
    assert any(h["scope_change"] for h in before["history"])
    acme = before["projects"][0]
    assert acme["channels"] == ["CPROJ", "C2"] and acme["customer_contacts"] == ["UCUST"]
    assert acme["closing_summary"] and acme["digest_time"] == "17:30" and acme["status"] == "active"

    summary = restore(db2, copy.deepcopy(before))
    assert summary == (
        f"imported 2 projects, {sum(len(before[s]) for s in ('requirements', 'issues', 'tasks', 'risks'))} "
        f"records, 2 meetings, {len(before['surveys'])} surveys, {len(before['history'])} history entries, 1 documents"
    )
    assert exported(db2) == before

    # The key counters continue after the highest key, in the restored database.
    restored = SlackHarness(fake_slack, db2)
    try:
        restored.services.clock = lambda: LATER
        restored.command("/task", "new After the restore")
        restored.command("/issue", "new In beta", channel="CBETA")
        restored.command("/project", "new GAMMA Gamma", channel="CGAMMA")
    finally:
        restored.close()
    with db2.read() as session:
        keys = set(session.scalars(select(Record.key)))
    assert {f"ACME-{acme['last_seq'] + 1}", "BETA-2"} <= keys
    after = exported(db2)
    assert [p["key"] for p in after["projects"]] == ["ACME", "BETA", "GAMMA"]


def test_an_existing_project_is_refused_without_overwrite_and_replaced_with_it(
    project: SlackHarness, db2: Database
) -> None:
    build_everything(project)
    data = exported(project.db)
    restore(db2, copy.deepcopy(data))
    with db2.write() as session:  # ACME's counter moved on in the restored database
        session.execute(update(Project).where(Project.key == "ACME").values(last_seq=40))
    snapshot, rows = exported(db2), counts(db2)

    with pytest.raises(
        InvalidImport, match=r"projects\[0\] \(ACME\): project ACME already exists in workspace T0001"
    ):
        restore(db2, copy.deepcopy(data))
    assert exported(db2) == snapshot and counts(db2) == rows

    changed = copy.deepcopy(data)
    changed["issues"][0]["title"] = "Login slow (restored)"
    changed["tasks"] = [t for t in changed["tasks"] if t["project"] != "ACME" or t["key"] != "ACME-12"]
    summary = restore(db2, changed, overwrite=True)
    assert summary.endswith("(replaced ACME, BETA)")
    after = exported(db2)
    assert after["issues"][0]["title"] == "Login slow (restored)"
    assert "ACME-12" not in {t["key"] for t in after["tasks"]}
    # Replaced, not added to: same number of projects, surveys (with their ids), documents.
    assert [p["key"] for p in after["projects"]] == ["ACME", "BETA"]
    assert [s["id"] for s in after["surveys"]] == [s["id"] for s in data["surveys"]]
    assert len(after["documents"]) == len(data["documents"])
    assert len(after["history"]) == len(data["history"])
    # A key once handed out is never handed out again.
    assert after["projects"][0]["last_seq"] == 40


def test_a_channel_linked_to_another_project_is_refused(db: Database) -> None:
    data = minimal_document()
    restore(db, data)
    other = minimal_document()
    other["projects"][0]["key"] = "OTHER"
    for section in ("issues", "tasks", "meetings", "surveys"):
        other[section] = []
    other["history"] = []
    rows = counts(db)
    with pytest.raises(InvalidImport, match="channel CACME is already linked to project ACME"):
        restore(db, other)
    assert counts(db) == rows


# -- a hand-written document with only the public fields ----------------------------------------------


def minimal_document() -> dict[str, Any]:
    """The fields the public interface promises, and nothing else."""
    at = "2026-11-02T08:00:00+00:00"
    base = {"team_id": TEAM, "project": "ACME", "created_by": "UALICE", "created_at": at, "description": ""}
    return {
        "projects": [
            {
                "key": "ACME",
                "name": "Acme",
                "team_id": TEAM,
                "channel_id": "CACME",
                "report_channel_id": None,
                "status": "active",
                "timezone": "Europe/Paris",
                "locale": "en",
                "owners": ["UALICE"],
                "customer_contacts": ["UCUST"],
            }
        ],
        "requirements": [],
        "issues": [
            {
                **base,
                "key": "ACME-1",
                "title": "Printer jams",
                "status": "open",
                "assignee_id": "UBOB",
                "due_date": "2026-12-01",
                "priority": "high",
                "source_url": None,
            },
        ],
        "tasks": [
            {
                **base,
                "key": "ACME-3",
                "title": "Call back",
                "status": "done",
                "assignee_id": None,
                "due_date": None,
                "priority": "low",
                "estimate_hours": 2,
                "source_url": None,
            },
        ],
        "risks": [],
        "meetings": [
            {
                "key": "ACME-2",
                "team_id": TEAM,
                "project": "ACME",
                "title": "Kickoff",
                "held_on": "2026-11-03",
                "attendees": ["UBOB"],
                "notes": "",
                "decisions": "",
                "action_items": ["ACME-3"],
            },
        ],
        "surveys": [
            {
                "id": 7,
                "team_id": TEAM,
                "project": "ACME",
                "status": "open",
                "recipients": ["UCUST"],
                "responses": [{"score": 4, "recommend": None, "comment": None, "user_id": None}],
            },
        ],
        "history": [
            {
                "team_id": TEAM,
                "record": "ACME-1",
                "field": "comment",
                "old": None,
                "new": "Seen it",
                "by": "UBOB",
                "at": "2026-11-04T10:00:00+01:00",
            },
        ],
    }


def test_a_document_with_only_the_public_fields_imports(db: Database) -> None:
    summary = restore(db, minimal_document())
    assert summary == (
        "imported 1 projects, 2 records, 1 meetings, 1 surveys, 1 history entries, 0 documents"
    )
    data = exported(db)
    [acme] = data["projects"]
    assert (acme["channels"], acme["last_seq"], acme["digest_time"]) == (["CACME"], 3, "09:00")
    assert data["meetings"][0]["action_items"] == ["ACME-3"]
    assert data["tasks"][0]["estimate_hours"] == 2
    assert data["history"][0]["at"] == "2026-11-04T09:00:00+00:00"
    [survey] = data["surveys"]
    assert survey["id"] == 7 and survey["recipients"] == ["UCUST"] and survey["responses"][0]["score"] == 4
    with db.read() as session:
        response = session.scalar(select(SurveyResponse))
        assert response is not None and len(response.secret_hash) == 64
    # The survey sequence moved past the kept id (PostgreSQL keeps it apart from the rows).
    with db.write() as session:
        acme_id = session.scalar(select(Project.id))
        session.add(Survey(team_id=TEAM, project_id=acme_id, kind="pulse", created_at=LATER, closes_at=LATER))
        session.flush()
        assert session.scalar(select(func.max(Survey.id))) == 8


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["issues"][0].pop("title"), "issues[0] (ACME-1).title: Field required"),
        (lambda d: d["tasks"][0].update(estimate_hours="lots"), "tasks[0] (ACME-3).estimate_hours"),
        (lambda d: d["projects"][0].update(owners="UALICE"), "projects[0] (ACME).owners"),
        (lambda d: d.pop("history"), "history: Field required"),
        (
            lambda d: d["issues"][0].update(status="done"),
            "issues[0] (ACME-1).status: 'done' is not a status of issues",
        ),
        (lambda d: d["issues"][0].update(key="BETA-1"), "issues[0] (BETA-1).key"),
        (
            lambda d: d["issues"][0].update(created_at="2026-11-02T08:00:00"),
            "created_at: Input should have timezone",
        ),
        (lambda d: d["meetings"][0].update(action_items=["ACME-1"]), "is not a task of project ACME"),
        (lambda d: d["tasks"][0].update(key="ACME-2"), "ACME-2 is in the file twice"),
        (lambda d: d["history"][0].update(record="ZED-1"), "history[0].record: project ZED"),
        (lambda d: d["projects"][0].update(timezone="Mars/Olympus"), "not an IANA time zone"),
        (
            lambda d: d["issues"][0].update(sla_warned=["first_reply"]),
            "issues[0] (ACME-1).sla_warned[0]: Value error, must be one of first_response, resolution",
        ),
    ],
)
def test_a_wrong_document_names_the_section_index_and_field(db: Database, change: Any, where: str) -> None:
    data = minimal_document()
    change(data)
    with pytest.raises(InvalidImport) as raised:
        restore(db, data)
    assert where in str(raised.value)
    assert "\n" not in str(raised.value)
    assert all(n == 0 for n in counts(db).values()), counts(db)


# -- through the command line ------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    shutil.copy(sqlite_template, tmp_path / "aftercare.db")
    return f"sqlite:///{tmp_path / 'aftercare.db'}"


def _stopped(result: Any, *needles: str) -> None:
    assert result.returncode == 2, output(result)
    assert "Traceback" not in output(result)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert result.stdout == ""


def test_import_command_refuses_existing_keys_unless_overwrite(tmp_path: Path, sqlite_url: str) -> None:
    path = tmp_path / "backup.json"
    path.write_text(json.dumps(minimal_document()), encoding="utf-8")
    first = run(["import", str(path)], tmp_path, DATABASE_URL=sqlite_url)
    assert first.returncode == 0, output(first)
    assert first.stdout.strip() == (
        "imported 1 projects, 2 records, 1 meetings, 1 surveys, 1 history entries, 0 documents"
    )
    before = run(["export"], tmp_path, DATABASE_URL=sqlite_url).stdout

    again = run(["import", str(path)], tmp_path, DATABASE_URL=sqlite_url)
    _stopped(again, "ACME already exists", "--overwrite", str(path))
    assert run(["export"], tmp_path, DATABASE_URL=sqlite_url).stdout == before

    # The backup of what is there now replaces it as it is (defaults the first file left out included).
    backup = tmp_path / "export.json"
    assert run(["export", "--out", str(backup)], tmp_path, DATABASE_URL=sqlite_url).returncode == 0
    forced = run(["import", str(backup), "--overwrite"], tmp_path, DATABASE_URL=sqlite_url)
    assert forced.returncode == 0, output(forced)
    assert "(replaced ACME)" in forced.stdout
    assert run(["export"], tmp_path, DATABASE_URL=sqlite_url).stdout == before


def test_import_command_with_a_malformed_file_writes_nothing(tmp_path: Path, sqlite_url: str) -> None:
    files = {
        "bad.json": '{"projects": [',
        "missing.json": json.dumps({**minimal_document(), "tasks": [{"key": "ACME-3"}]}),
        "wrong.json": json.dumps(
            {**minimal_document(), "projects": [{**minimal_document()["projects"][0], "owners": [42]}]}
        ),
        "list.json": "[]",
    }
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    expected = {
        "bad.json": "not valid JSON",
        "missing.json": "tasks[0] (ACME-3).team_id: Field required (and",
        "wrong.json": "projects[0] (ACME).owners[0]: Input should be a valid string",
        "list.json": "expected a JSON object",
    }
    expected["nowhere.json"] = "cannot read"
    results = run_all(
        [(["import", str(tmp_path / name)], {"DATABASE_URL": sqlite_url}) for name in expected], tmp_path
    )
    for needle, result in zip(expected.values(), results, strict=True):
        _stopped(result, needle)
    empty = json.loads(run(["export"], tmp_path, DATABASE_URL=sqlite_url).stdout)
    assert all(rows == [] for rows in empty.values())


# -- a large import ----------------------------------------------------------------------------------


def test_twenty_thousand_records_import_in_bulk(db: Database) -> None:
    data = minimal_document()
    data["meetings"], data["surveys"] = [], []
    template = data["tasks"][0]
    data["issues"] = []
    data["tasks"] = [
        {**template, "key": f"ACME-{n}", "title": f"Task {n}", "status": "open" if n % 3 else "done"}
        for n in range(1, 20_001)
    ]
    data["history"] = [
        {**data["history"][0], "record": f"ACME-{n}", "new": f"Note {n}"} for n in range(1, 20_001, 4)
    ]
    assert restore(db, data).startswith("imported 1 projects, 20000 records, 0 meetings")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Record)) == 20_000
        assert session.scalar(select(func.count()).select_from(HistoryEntry)) == 5_000
        assert session.scalar(select(Project.last_seq)) == 20_000
        assert session.scalar(select(func.count()).select_from(Document)) == 0
