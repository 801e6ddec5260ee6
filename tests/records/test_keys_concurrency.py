"""One per-project key sequence across kinds: consecutive and unique under concurrent creation."""

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.domain.records import NewRecord, create_record, prepare_record, store_records
from storage import queries
from storage.db import Database
from storage.models import Kind, Project
from tests.harness import SlackHarness

KINDS = ["/issue", "/req", "/task", "/risk"]
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # when the workers log their records (not the wall clock)


def test_fifty_concurrent_commands_get_fifty_consecutive_keys(project: SlackHarness) -> None:
    def create(n: int) -> int:
        return project.command(KINDS[n % 4], f"new Concurrent record {n}", user=f"U{n:03d}").status

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(create, range(50)))
    project.executor.drain()
    assert statuses == [200] * 50
    records = project.records()
    assert sorted(r.seq for r in records) == list(range(1, 51))
    assert len({r.key for r in records}) == 50
    assert sorted(r.title for r in records) == sorted(f"Concurrent record {n}" for n in range(50))
    # Nobody was shown an error.
    assert project.ephemeral_texts() == []


def _create_many(url: str, project_id: int, count: int, worker: int) -> None:
    db = Database(url)
    for n in range(count):
        with db.write() as session:
            create_record(
                session,
                team_id="T0001",
                project_id=project_id,
                user_id=f"UW{worker}",
                new=NewRecord(kind=Kind.TASK, title=f"w{worker}-{n}"),
                now=AT,
            )
    db.dispose()


def test_several_processes_share_one_sequence(project: SlackHarness) -> None:
    with project.db.read() as session:
        from storage.queries import project_by_key

        acme = project_by_key(session, team_id="T0001", key="ACME")
        assert acme is not None
        project_id = acme.id
    url = project.db.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_create_many, args=(url, project_id, 10, w)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    records = project.records()
    assert sorted(r.seq for r in records) == list(range(1, 41))
    assert {r.key for r in records} == {f"ACME-{n}" for n in range(1, 41)}


def _gather_many(url: str, keys: list[str], count: int, worker: int) -> None:
    """``count`` transactions, each storing one record in every project of ``keys`` (in that order), as a
    gathering of the post-ack queue does."""
    db = Database(url)
    for n in range(count):
        with db.write() as session:
            projects = [session.scalars(select(Project).where(Project.key == key)).one() for key in keys]
            made = [
                (
                    prepare_record(
                        project,
                        team_id="T0001",
                        user_id=f"UW{worker}",
                        new=NewRecord(kind=Kind.ISSUE, title=f"w{worker}-{n}"),
                        now=AT,
                    ),
                    project,
                )
                for project in projects
            ]
            store_records(session, made)
    db.dispose()


def test_processes_storing_records_of_overlapping_projects_neither_deadlock_nor_share_numbers(
    project: SlackHarness,
) -> None:
    """Each worker takes its projects in its own order; the keys are taken in the projects' id order in one
    statement, so PostgreSQL never finds two of them waiting for each other (it would abort one)."""
    for key, channel in [("BETA", "CBETA"), ("GAMMA", "CGAMMA")]:
        assert project.command("/project", f"new {key} {key} Corp", channel=channel).status == 200
    orders = [["ACME", "BETA", "GAMMA"], ["GAMMA", "BETA", "ACME"], ["BETA", "ACME"], ["GAMMA", "ACME"]]
    url = project.db.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_gather_many, args=(url, keys, 10, w)) for w, keys in enumerate(orders)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    seqs: dict[str, list[int]] = {}
    for record in project.records():
        seqs.setdefault(record.key.split("-")[0], []).append(record.seq)
    assert {key: sorted(numbers) for key, numbers in seqs.items()} == {
        "ACME": list(range(1, 41)),
        "BETA": list(range(1, 31)),
        "GAMMA": list(range(1, 31)),
    }


def test_a_failed_creation_gives_its_number_back(project: SlackHarness) -> None:
    project.command("/issue", "new First")
    project.command("/issue", "new Second due:2026-02-30")  # refused: nothing saved, no number used
    project.command("/issue", "new Third")
    assert [r.key for r in project.records()] == ["ACME-1", "ACME-2"]


@pytest.mark.parametrize("with_acme", [False, True], ids=["alone", "with-another"])
def test_keys_of_a_project_that_is_not_there_are_refused_and_none_is_taken(
    project: SlackHarness, with_acme: bool
) -> None:
    with project.db.read() as session:
        acme = session.scalars(select(Project).where(Project.key == "ACME")).one()
    asked = ({acme.id: 2} if with_acme else {}) | {999_999: 1}
    with pytest.raises(LookupError, match=r"projects not found: \[999999\]"), project.db.write() as session:
        queries.allocate_seqs(session, asked)
    project.command("/issue", "new First")
    assert [r.key for r in project.records()] == ["ACME-1"]
