"""Closing with the customer: `/project close` in a channel shared with the customer's organisation.

The customer gets the closing summary in the project channel (the owner's summary, what was delivered,
issue figures, thanks, the survey word) without the internal lessons; the retrospective and its file go
where internal posts go (the owners by DM here), all through the ledger: a failed send is retried by the
next `digest` job run and never doubled.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Delivery
from tests.harness import CAST, SlackHarness, run_job
from tests.projects.test_closure import CLOSED, close
from tests.projects.test_closure import data as data  # the known data set, closed in these tests

SUMMARY_KEY = "closing_summary:T0001:ACME:1"


@pytest.fixture
def shared(data: SlackHarness) -> SlackHarness:
    """ACME's channel is shared with the customer's organisation (UCUST of TOTHER is in it)."""
    data.fake.clock = lambda: CLOSED.timestamp()
    data.fake.add_user("UCUST", team_id="TOTHER")
    data.fake.add_channel("CPROJ", name="acme", is_ext_shared=True, members=[*CAST, "UCUST"])
    return data


def _key(message: dict[str, Any]) -> str:
    return str(((message.get("metadata") or {}).get("event_payload") or {}).get("key", ""))


def _texts(message: dict[str, Any]) -> str:
    parts = [str(message.get("text", ""))]
    for block in message.get("blocks") or []:
        parts.append(str((block.get("text") or {}).get("text", "")))
        parts += [str(e.get("text", "")) for e in block.get("elements") or [] if isinstance(e, dict)]
    return "\n".join(parts)


def _deliveries(slack: SlackHarness) -> list[tuple[str, str, str]]:
    with slack.db.read() as session:
        rows = session.scalars(select(Delivery).order_by(Delivery.id))
        return [(d.key, d.channel, d.status) for d in rows if not d.key.startswith("failed:")]


def test_closing_in_a_shared_channel_tells_the_customer_and_keeps_the_lessons_internal(
    shared: SlackHarness,
) -> None:
    response = close(
        shared, summary="All delivered but dark mode <!channel>", lessons="SECRET-LESSON scope creep"
    )
    assert response.status == 200

    [summary] = [m for m in shared.fake.posted("CPROJ") if _key(m) == SUMMARY_KEY]
    text = _texts(summary)
    assert summary["blocks"][0]["text"]["text"] == "Acme Corp after-sales is closed: thank you"
    assert "All delivered but dark mode &lt;!channel&gt;" in text and "<!channel>" not in text
    assert "*Delivered* (1)\n• *ACME-2* CSV export" in text
    assert "Issues: 5 raised, 4 resolved, 1 still open." in text
    assert "Thank you for working with us on this project." in text
    for internal in ("SECRET-LESSON", "Lessons", "Risk", "risk", "Vendor delay", "<@", "on time", "Tasks"):
        assert internal not in text, internal
    assert all(b["type"] in ("header", "section", "context") for b in summary["blocks"])
    # The retrospective (and its file) went where internal posts go: the owner by DM, not the shared channel.
    assert not any(_key(m).startswith("retrospective:") for m in shared.fake.posted("CPROJ"))
    assert [_key(m) for m in shared.fake.posted("UALICE") if _key(m).startswith("retrospective:")] == [
        "retrospective:T0001:ACME:1:post:UALICE"
    ]
    assert shared.fake.uploads("CPROJ") == [] and len(shared.fake.uploads("UALICE")) == 1
    assert (SUMMARY_KEY, "CPROJ", "sent") in _deliveries(shared)


def test_a_closing_summary_that_could_not_be_sent_is_retried_by_the_digest_job_never_doubled(
    shared: SlackHarness,
) -> None:
    shared.fake.fail("chat.postMessage", status=429, retry_after=120, times=50)
    close(shared)
    assert (SUMMARY_KEY, "CPROJ", "pending") in _deliveries(shared)
    assert not any(_key(m) == SUMMARY_KEY for m in shared.fake.posted("CPROJ"))
    with shared.fake.state.lock:  # Slack is back
        shared.fake.state.failures.clear()

    run_job(shared, "digest", CLOSED + timedelta(hours=1))
    run_job(shared, "digest", CLOSED + timedelta(hours=2))

    assert [_key(m) for m in shared.fake.posted("CPROJ") if _key(m) == SUMMARY_KEY] == [SUMMARY_KEY]
    posts = [_key(m) for m in shared.fake.posted("UALICE") if _key(m).startswith("retrospective:")]
    assert posts == ["retrospective:T0001:ACME:1:post:UALICE"]
    assert all(status == "sent" for key, _channel, status in _deliveries(shared) if "ACME:1" in key)


def test_closing_an_internal_project_channel_posts_the_summary_there_too(data: SlackHarness) -> None:
    data.fake.clock = lambda: CLOSED.timestamp()
    close(data)

    keys = [_key(m) for m in data.fake.posted("CPROJ") if _key(m)]
    assert SUMMARY_KEY in keys and "retrospective:T0001:ACME:1:post" in keys
