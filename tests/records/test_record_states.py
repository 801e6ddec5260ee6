"""One state machine: what a card offers is what the domain accepts, for every kind and every status.

Both sides are the real code: the card from :func:`bot.blocks.basics.record_card`, the moves from
:func:`bot.domain.lifecycle.move` on a stored record. ``Record.status`` takes only its kind's words.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.blocks.basics import VERB_LABELS, record_card
from bot.blocks.review import message_layout
from bot.blocks.sla import warning_message
from bot.domain import lifecycle
from bot.domain.errors import UserError
from bot.domain.projects import create_project
from bot.domain.records import NewRecord, create_record
from bot.domain.service_levels import AT_RISK, FIRST_RESPONSE, TargetState
from bot.domain.statuses import LIFECYCLES, Verb
from bot.domain.views import RecordView
from bot.i18n import t
from bot.i18n.labels import STATUS_NAMES
from bot.slack import ids
from storage.db import Database
from storage.models import Kind, Project, Record
from storage.record_states import STATUS_WORDS
from tests.harness import HARNESS_NOW

NOW = HARNESS_NOW
TEAM = "T0001"
OWNER = "UALICE"


def _project(db: Database) -> int:
    with db.write() as session:
        return create_project(
            session, team_id=TEAM, key="ACME", name="Acme", channel_id="CPROJ", user_id=OWNER,
            timezone="UTC", locale="en", now=NOW,
        ).id  # fmt: skip


def _record_in(db: Database, project_id: int, kind: Kind, status: str) -> str:
    """A fresh record of ``kind`` stored in ``status`` (set directly, as an import would)."""
    with db.write() as session:
        view = create_record(
            session, team_id=TEAM, project_id=project_id, user_id=OWNER,
            new=NewRecord(kind=kind, title=f"A {kind} in {status}"), now=NOW,
        )  # fmt: skip
        session.execute(update(Record).where(Record.key == view.key).values(status=status))
        return view.key


def _view(db: Database, key: str) -> RecordView:
    with db.read() as session:
        record = session.scalars(select(Record).where(Record.key == key)).one()
        project = session.get(Project, record.project_id)
        assert project is not None
        return RecordView.of(record, project)


def _card_moves(view: RecordView) -> set[str]:
    """The moves the record's channel card offers as buttons."""
    _text, blocks = record_card(view)
    offered: set[str] = set()
    for block in blocks:
        if block.get("type") != "actions":
            continue
        for button in block["elements"]:
            if button["action_id"] == ids.ACTION_CARD_CLOSE:
                offered.add("close")
            elif button["action_id"].startswith(ids.card_move_action("")):
                verb = json.loads(button["value"])["verb"]
                assert button["action_id"] == ids.card_move_action(verb)
                offered.add(verb)
    return offered


def _domain_accepts(db: Database, key: str, verb: str) -> bool:
    """Whether the domain moves the record by ``verb`` (the change is rolled back)."""
    with db.write() as session:
        try:
            change = lifecycle.move(session, team_id=TEAM, key=key, verb=verb, user_id=OWNER, now=NOW)
        except UserError:
            accepted = False
        else:
            accepted = change.changed
            if accepted:
                expected = LIFECYCLES[Kind(change.record.kind)].move(verb)
                assert expected is not None and change.record.status == expected.to
        session.rollback()
    return accepted


CASES = [(kind, status) for kind, lc in LIFECYCLES.items() for status in lc.statuses]


def test_every_kind_and_status_is_covered() -> None:
    assert {kind for kind, _ in CASES} == set(Kind)
    assert [status for kind, status in CASES if kind is Kind.ISSUE] == [
        "open",
        "in_progress",
        "resolved",
        "closed",
    ]


def test_the_card_offers_exactly_the_moves_the_domain_accepts(db: Database) -> None:
    project_id = _project(db)
    for kind, status in CASES:
        key = _record_in(db, project_id, kind, status)
        offered = _card_moves(_view(db, key))
        accepted = {verb for verb in Verb if _domain_accepts(db, key, verb)}
        assert offered == accepted, (kind, status)
        assert _view(db, key).status == status  # nothing was kept
    # What that means for people, spelled out for two kinds.
    requirement = _record_in(db, project_id, Kind.REQUIREMENT, "proposed")
    assert _card_moves(_view(db, requirement)) == {"accept", "start", "deliver", "reject", "close"}
    issue = _record_in(db, project_id, Kind.ISSUE, "closed")
    assert _card_moves(_view(db, issue)) == {"reopen"}


def test_a_refused_move_names_the_moves_there_are(db: Database) -> None:
    project_id = _project(db)
    key = _record_in(db, project_id, Kind.REQUIREMENT, "in_progress")
    with db.write() as session, pytest.raises(UserError) as refused:
        lifecycle.move(session, team_id=TEAM, key=key, verb="accept", user_id=OWNER, now=NOW)
    assert (
        t("en", refused.value.message, **refused.value.params)
        == f"{key} is in progress: from there its steps are deliver, reject, close."
    )
    done = _record_in(db, project_id, Kind.TASK, "done")
    with db.write() as session, pytest.raises(UserError) as refused:
        lifecycle.move(session, team_id=TEAM, key=done, verb="start", user_id=OWNER, now=NOW)
    assert t("en", refused.value.message, **refused.value.params) == f"{done} is already done."
    # The same move again is no move: nothing changes and nothing is refused.
    started = _record_in(db, project_id, Kind.TASK, "in_progress")
    with db.write() as session:
        change = lifecycle.move(session, team_id=TEAM, key=started, verb="start", user_id=OWNER, now=NOW)
    assert (change.changed, _view(db, started).status) == (False, "in_progress")


@pytest.mark.parametrize("status", LIFECYCLES[Kind.ISSUE].statuses)
def test_the_service_level_warning_offers_resolve_where_the_domain_accepts_it(
    db: Database, status: str
) -> None:
    key = _record_in(db, _project(db), Kind.ISSUE, status)
    view = _view(db, key)
    _text, blocks = warning_message(
        key=key, title=view.title, version=view.version, status=status, assigned=True, source_url=None,
        state=_state(), locale="en",
    )  # fmt: skip
    offered = any(
        e.get("action_id") == ids.card_move_action("resolve") for b in blocks for e in b.get("elements", [])
    )
    assert offered == _domain_accepts(db, key, "resolve")


def _state() -> TargetState:
    return TargetState(
        target=FIRST_RESPONSE,
        due=NOW + timedelta(hours=1),
        state=AT_RISK,
        delta=timedelta(hours=1),
        warn_at=NOW,
    )


def test_record_status_takes_only_its_kinds_words(db: Database) -> None:
    project_id = _project(db)
    key = _record_in(db, project_id, Kind.TASK, "in_progress")
    with db.read() as session:
        stored = session.scalar(select(Record.status).where(Record.key == key))
    assert stored == "in_progress" and type(stored) is str
    with pytest.raises(ValueError, match="is not a status"), db.write() as session:
        record = session.scalars(select(Record).where(Record.key == key)).one()
        record.status = "delivered"  # a requirement's word, not a task's
    with pytest.raises(Exception, match="is not a record status"), db.write() as session:
        session.execute(update(Record).where(Record.key == key).values(status="finished"))
    assert _view(db, key).status == "in_progress"


def test_a_review_message_carries_its_part_and_risks_in_its_block_ids() -> None:
    blocks = [
        {"type": "section", "block_id": 'review_head:{"part":2,"total":3}'},
        {"type": "section", "block_id": "review_risk:ACME-4"},
        {"type": "section", "block_id": "review_risk:ACME-12"},
    ]
    assert message_layout(blocks) == (["ACME-4", "ACME-12"], 2, 3)
    # A review posted before the JSON header.
    assert message_layout([{"block_id": "review_head:2:3"}, *blocks[1:]]) == (["ACME-4", "ACME-12"], 2, 3)
    assert message_layout([{"block_id": "review_head:nonsense"}, *blocks[1:]]) == (
        ["ACME-4", "ACME-12"],
        1,
        1,
    )


def test_every_status_and_verb_has_a_name_people_read() -> None:
    assert STATUS_WORDS.issubset(STATUS_NAMES)
    assert {verb for lc in LIFECYCLES.values() for verb in lc.moves} <= set(VERB_LABELS)
