"""The weekly risk review: when it is due, what it flags and whom it mentions, and its buttons."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.blocks.review import RISKS_PER_MESSAGE
from bot.delivery.base import JobContext, Outgoing
from bot.demo.simulator import block_problems
from bot.domain.people import upsert_member
from bot.jobs import risk_review
from bot.slack import ids
from storage.models import HistoryEntry, Project, Record
from tests.harness import TEAM, SlackHarness, click, find_button, job_runner

# Thursday 12 November 2026, 10:00 UTC: the default review slot of a UTC project, ISO week 46.
SLOT = datetime(2026, 11, 12, 10, 0, tzinfo=UTC)
REPORT = "CREPORT"
REVIEW_TS = "1790000000.000100"


def _set(slack: SlackHarness, model: Any, where: Any, **values: Any) -> None:
    with slack.db.write() as session:
        session.execute(update(model).where(where).values(**values))


def _plan(slack: SlackHarness, now: datetime = SLOT, **scope: Any) -> list[Outgoing]:
    with slack.db.read() as session:
        return risk_review.plan(session, JobContext(now=now, **scope))


def _risk(slack: SlackHarness, key: str) -> Record:
    with slack.db.read() as session:
        found = session.scalar(select(Record).where(Record.key == key))
        assert found is not None
        session.expunge(found)
        return found


def _wire(slack: SlackHarness) -> None:
    """Make sure the review buttons are registered (Bolt runs only the first matching listener,
    so this is harmless once ``bot.commands.register_all`` registers them too)."""
    from bot.commands import review

    review.register(slack.app)


@pytest.fixture
def risks(project: SlackHarness) -> SlackHarness:
    _wire(project)
    project.services.clock = lambda: SLOT - timedelta(days=30)
    project.command("/risk", "new Vendor delay <@UBOB|bob> p:4 i:5")  # 1: never reviewed → flagged
    project.command("/risk", "new Key person leaves <@UCAROL|carol> p:2 i:2")  # 2: reviewed 3 days ago
    project.command("/risk", "new Scope creep p:3 i:3")  # 3: reviewed 20 days ago, no owner → flagged
    project.command("/risk", "new Fire p:5 i:5")  # 4: closed
    project.command("/task", "new Not a risk <@UDAVE|dave>")  # 5
    project.command("/risk", "close ACME-4")
    _set(project, Record, Record.key == "ACME-2", last_reviewed_at=SLOT - timedelta(days=3))
    _set(project, Record, Record.key == "ACME-3", last_reviewed_at=SLOT - timedelta(days=20))
    with project.db.write() as session:
        upsert_member(session, team_id=TEAM, member={"id": "UCAROL", "real_name": "Carol Chen"}, now=SLOT)
    project.services.clock = lambda: SLOT + timedelta(minutes=5)
    project.fake.reset_calls()
    return project


def test_review_is_due_at_its_slot_within_grace(risks: SlackHarness) -> None:
    (review,) = _plan(risks)
    with risks.db.read() as session:
        project_id = session.scalar(select(Project.id).where(Project.key == "ACME"))
    assert (review.key, review.kind, review.report_project_id, review.channel) == (
        "review:T0001:ACME:2026-W46",
        "review",
        project_id,
        None,
    )
    assert _plan(risks, SLOT - timedelta(minutes=1)) == []
    assert [o.key for o in _plan(risks, SLOT + timedelta(hours=11, minutes=59))] == [review.key]
    assert _plan(risks, SLOT + timedelta(hours=12)) == []
    assert _plan(risks, SLOT + timedelta(days=1)) == []


def test_review_every_other_week_and_settings(risks: SlackHarness) -> None:
    _set(risks, Project, Project.key == "ACME", review_every_weeks=2)
    assert [o.key for o in _plan(risks)] == ["review:T0001:ACME:2026-W46"]  # 46 is even
    assert _plan(risks, SLOT + timedelta(days=7)) == []  # week 47
    assert [o.key for o in _plan(risks, SLOT + timedelta(days=14))] == ["review:T0001:ACME:2026-W48"]
    _set(
        risks, Project, Project.key == "ACME", review_every_weeks=1, review_weekday=0, review_time="08:30",
        timezone="Asia/Shanghai",
    )  # fmt: skip
    monday = datetime(2026, 11, 16, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
    assert [o.key for o in _plan(risks, monday)] == ["review:T0001:ACME:2026-W47"]
    assert _plan(risks, monday - timedelta(minutes=1)) == []


def test_no_open_risks_no_review(project: SlackHarness) -> None:
    project.services.clock = lambda: SLOT - timedelta(days=3)
    project.command("/risk", "new Gone p:1 i:1")
    project.command("/risk", "close ACME-1")
    project.command("/task", "new Some task")
    assert _plan(project) == []


def test_review_lists_risks_by_score_flags_stale_ones_and_mentions_their_owners(risks: SlackHarness) -> None:
    (review,) = _plan(risks)
    text = review.text
    assert block_problems(review.blocks, max_blocks=50) == []
    assert "*Risk review · ACME* — Acme Corp after-sales" in text
    assert "Open risks: 3, highest score first." in text
    assert "Need a review (never reviewed, or not in 14 days): 2." in text
    # Owners of flagged risks are mentioned; Carol's risk was reviewed lately: named, not pinged.
    assert "Please review your risks: <@UBOB>" in text and "<@UCAROL>" not in text
    assert "Flagged risks without an owner: 1." in text
    lines = [
        b["text"]["text"] for b in review.blocks if str(b.get("block_id", "")).startswith("review_risk:")
    ]
    assert [line.split("*")[1] for line in lines] == ["ACME-1", "ACME-3", "ACME-2"]  # 20, 9, 4
    assert lines[0].startswith(":warning: *ACME-1* Vendor delay\nRisk score: 20 (p4 × i5) · open · <@UBOB>")
    assert "never reviewed" in lines[0]
    assert lines[1].startswith(":warning: *ACME-3*") and "no owner" in lines[1]
    assert "last reviewed Fri, Oct 23, 2026" in lines[1]
    assert not lines[2].startswith(":warning:") and "Carol Chen" in lines[2]
    assert "last reviewed Mon, Nov 9, 2026" in lines[2]
    assert "Fire" not in text and "Not a risk" not in text
    actions = [b for b in review.blocks if b["type"] == "actions"]
    assert len(actions) == 3
    first = actions[0]["elements"]
    assert [e["action_id"] for e in first] == [
        ids.ACTION_REVIEW_STILL_VALID,
        ids.ACTION_REVIEW_ADJUST,
        ids.ACTION_REVIEW_MITIGATING,
        ids.ACTION_REVIEW_CLOSE,
    ]
    assert json.loads(first[0]["value"]) == {"key": "ACME-1", "v": 1}
    menu = [json.loads(o["value"]) for o in first[1]["options"]]
    # p is 4: raise to 5 or lower to 3; i is 5 already: only lower.
    assert [(o["f"], o["d"]) for o in menu] == [("p", 1), ("p", -1), ("i", -1)]


def test_a_long_register_is_split_into_parts(project: SlackHarness) -> None:
    project.services.clock = lambda: SLOT - timedelta(days=1)
    for n in range(RISKS_PER_MESSAGE + 5):
        project.command("/risk", f"new Risk number {n} p:{1 + n % 5} i:{1 + n % 4}")
    planned = _plan(project)
    assert [o.key for o in planned] == ["review:T0001:ACME:2026-W46:1", "review:T0001:ACME:2026-W46:2"]
    for item in planned:
        assert block_problems(item.blocks, max_blocks=50) == []
    assert "part 2 of 2" in planned[1].text


def _review_message(slack: SlackHarness) -> Outgoing:
    (review,) = _plan(slack)
    return review


def _press(
    slack: SlackHarness, blocks: list[dict[str, Any]], action: dict[str, Any], *, user: str = "UALICE",
    with_blocks: bool = True,
) -> None:  # fmt: skip
    """Click in the posted review (a block_actions payload; Slack sends the message's blocks along)."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": "A0001",
        "token": "deprecated",
        "trigger_id": "trigger-789",
        "container": {
            "type": "message",
            "message_ts": REVIEW_TS,
            "channel_id": REPORT,
            "is_ephemeral": False,
        },
        "channel": {"id": REPORT, "name": "reports"},
        "message": {
            "type": "message",
            "ts": REVIEW_TS,
            "text": "review",
            **({"blocks": blocks} if with_blocks else {}),
        },
        "response_url": slack.next_response_url(),
        "actions": [{**action, "block_id": "b", "action_ts": "1790000000.1"}],
        "is_enterprise_install": False,
    }
    response = slack.interact(payload)
    assert response.status == 200


def _adjust(blocks: list[dict[str, Any]], key: str, field: str, delta: int) -> dict[str, Any]:
    for block in blocks:
        if block.get("block_id") != f"{ids.BLOCK_REVIEW_ACTIONS}:{key}":
            continue
        menu = next(e for e in block["elements"] if e["action_id"] == ids.ACTION_REVIEW_ADJUST)
        for option in menu["options"]:
            value = json.loads(option["value"])
            if (value["f"], value["d"]) == (field, delta):
                return {"type": "overflow", "action_id": ids.ACTION_REVIEW_ADJUST, "selected_option": option}
    raise AssertionError(f"no adjustment {field}{delta:+d} for {key}")


def _button(blocks: list[dict[str, Any]], key: str, action_id: str) -> dict[str, Any]:
    mine = [b for b in blocks if b.get("block_id") == f"{ids.BLOCK_REVIEW_ACTIONS}:{key}"]
    return find_button(mine, action_id)


def _redrawn(slack: SlackHarness) -> dict[str, Any]:
    updates = slack.fake.calls_to("chat.update")
    assert updates, f"no redraw; calls: {[c.method for c in slack.fake.calls]}"
    args = updates[-1].args
    assert (args["channel"], args["ts"]) == (REPORT, REVIEW_TS)
    blocks = args["blocks"]
    args["blocks"] = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert block_problems(args["blocks"], max_blocks=50) == []
    return args


def _line(blocks: list[dict[str, Any]], key: str) -> str:
    return str(
        next(b for b in blocks if b.get("block_id") == f"{ids.BLOCK_REVIEW_RISK}:{key}")["text"]["text"]
    )


def test_still_valid_stamps_the_review_and_redraws_the_message(risks: SlackHarness) -> None:
    blocks = _review_message(risks).blocks
    _press(risks, blocks, _button(blocks, "ACME-1", ids.ACTION_REVIEW_STILL_VALID), user="UBOB")
    risk = _risk(risks, "ACME-1")
    assert risk.last_reviewed_at == SLOT + timedelta(minutes=5) and risk.version == 2
    with risks.db.read() as session:
        entry = session.scalar(select(HistoryEntry).where(HistoryEntry.record_key == "ACME-1"))
        assert entry is not None and (entry.field, entry.old, entry.by) == ("last_reviewed_at", None, "UBOB")
    redrawn = _redrawn(risks)
    line = _line(redrawn["blocks"], "ACME-1")
    assert not line.startswith(":warning:") and "last reviewed Thu, Nov 12, 2026" in line
    # The same risks, in the same places; only ACME-3 still needs a review.
    keys = [b["block_id"] for b in redrawn["blocks"] if str(b.get("block_id", "")).startswith("review_risk:")]
    assert keys == ["review_risk:ACME-1", "review_risk:ACME-3", "review_risk:ACME-2"]
    assert "Need a review (never reviewed, or not in 14 days): 1." in redrawn["text"]
    assert json.loads(_button(redrawn["blocks"], "ACME-1", ids.ACTION_REVIEW_STILL_VALID)["value"])["v"] == 2


def test_raise_probability_changes_the_score(risks: SlackHarness) -> None:
    blocks = _review_message(risks).blocks
    _press(risks, blocks, _adjust(blocks, "ACME-3", "p", 1))
    risk = _risk(risks, "ACME-3")
    assert (risk.probability, risk.impact, risk.score, risk.version) == (4, 3, 12, 2)
    with risks.db.read() as session:
        entry = session.scalar(select(HistoryEntry).where(HistoryEntry.record_key == "ACME-3"))
        assert entry is not None and (entry.field, entry.old, entry.new) == ("probability", "3", "4")
    line = _line(_redrawn(risks)["blocks"], "ACME-3")
    assert "Risk score: 12 (p4 × i3)" in line
    # Lowering impact works the same way, down to 1 and no further.
    blocks = _redrawn(risks)["blocks"]
    _press(risks, blocks, _adjust(blocks, "ACME-3", "i", -1))
    assert _risk(risks, "ACME-3").impact == 2


def test_mitigating_and_close_move_the_risk(risks: SlackHarness) -> None:
    blocks = _review_message(risks).blocks
    _press(risks, blocks, _button(blocks, "ACME-1", ids.ACTION_REVIEW_MITIGATING), user="UBOB")
    assert _risk(risks, "ACME-1").status == "mitigating"
    blocks = _redrawn(risks)["blocks"]
    assert "mitigating" in _line(blocks, "ACME-1")
    ids_left = [
        e["action_id"] for b in blocks if b.get("block_id") == "review_actions:ACME-1" for e in b["elements"]
    ]
    assert ids.ACTION_REVIEW_MITIGATING not in ids_left
    close = _button(blocks, "ACME-1", ids.ACTION_REVIEW_CLOSE)
    assert "confirm" in close
    _press(risks, blocks, close, user="UBOB")
    risk = _risk(risks, "ACME-1")
    assert risk.status == "closed" and risk.closed_at is not None
    blocks = _redrawn(risks)["blocks"]
    assert _line(blocks, "ACME-1").startswith("~*ACME-1* Vendor delay~")
    assert not [b for b in blocks if b.get("block_id") == "review_actions:ACME-1"]


def test_a_stale_click_changes_nothing_and_shows_the_current_state(risks: SlackHarness) -> None:
    blocks = _review_message(risks).blocks
    _press(risks, blocks, _adjust(blocks, "ACME-1", "p", -1))
    assert _risk(risks, "ACME-1").score == 15
    # The old message's buttons were drawn at version 1.
    _press(risks, blocks, _button(blocks, "ACME-1", ids.ACTION_REVIEW_STILL_VALID))
    _press(risks, blocks, _adjust(blocks, "ACME-1", "p", 1))
    risk = _risk(risks, "ACME-1")
    assert (risk.probability, risk.last_reviewed_at is not None, risk.version) == (3, True, 2)
    assert "had changed since this review was drawn" in risks.last_ephemeral()
    assert "Risk score: 15 (p3 × i5)" in _line(_redrawn(risks)["blocks"], "ACME-1")


def test_clicks_follow_record_permissions(risks: SlackHarness) -> None:
    blocks = _review_message(risks).blocks
    _press(risks, blocks, _button(blocks, "ACME-1", ids.ACTION_REVIEW_CLOSE), user="UDAVE")
    assert "Only the reporter, the assignee or an owner" in risks.last_ephemeral()
    assert _risk(risks, "ACME-1").status == "open"
    assert risks.fake.calls_to("chat.update") == []


def test_redraw_without_the_message_blocks(risks: SlackHarness) -> None:
    """Should Slack leave the blocks out, the message is rebuilt from the review as it stands."""
    blocks = _review_message(risks).blocks
    _press(risks, blocks, _button(blocks, "ACME-3", ids.ACTION_REVIEW_CLOSE), with_blocks=False)
    assert _risk(risks, "ACME-3").status == "closed"
    redrawn = _redrawn(risks)["blocks"]
    assert _line(redrawn, "ACME-3").startswith("~*ACME-3*")
    assert _line(redrawn, "ACME-1").startswith(":warning: *ACME-1*")


def test_the_harness_click_works_too(risks: SlackHarness) -> None:
    blocks = _review_message(risks).blocks
    response = click(risks, _button(blocks, "ACME-2", ids.ACTION_REVIEW_STILL_VALID), user="UCAROL",
                     channel=REPORT, message_ts=REVIEW_TS)  # fmt: skip
    assert response.status == 200
    assert _risk(risks, "ACME-2").last_reviewed_at == SLOT + timedelta(minutes=5)
    assert risks.fake.invalid == []


def test_a_posted_review_is_redrawn_in_place(risks: SlackHarness) -> None:
    risks.fake.add_channel(REPORT, name="acme-internal")
    _set(risks, Project, Project.key == "ACME", report_channel_id=REPORT)
    assert job_runner(risks, SLOT).run([risk_review.plan], JobContext(now=SLOT)).sent == 1
    (posted,) = risks.fake.calls_to("chat.postMessage")
    blocks = posted.args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert "<@UBOB>" in posted.args["text"]
    risks.fake.reset_calls()
    _press(risks, blocks, _button(blocks, "ACME-1", ids.ACTION_REVIEW_STILL_VALID), user="UBOB")
    assert _risk(risks, "ACME-1").last_reviewed_at is not None
    assert "last reviewed" in _line(_redrawn(risks)["blocks"], "ACME-1")
    assert risks.fake.invalid == []
