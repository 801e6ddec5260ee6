"""Finding an in-doubt message before any resend: by the ledger key in its metadata, within Slack's limits.

A message whose last attempt may have reached Slack (timeout, 5xx, a crash) is looked for in its
conversation's history — one page of ``conversations.history`` (15 messages, only the attempt's time
window) per call, and only when the workspace's budget (about one call a minute for apps outside the
Marketplace, shared by every process through the database) allows. Otherwise — or while more pages
remain — it stays in doubt and is deferred, never resent.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery.base import JobClock
from bot.delivery.outcomes import PERMANENT_ERRORS, Outcome, retry_after_of
from bot.slack import ids
from bot.slack.services import Services
from storage import ledger
from storage.models import Delivery

log = logging.getLogger("aftercare.jobs")

# conversations.history for apps outside the Marketplace (since 2025): about one call a minute per
# workspace, 15 messages a page (https://api.slack.com/apis/rate-limits; changelog 2025-05-29).
HISTORY_METHOD = "conversations.history"
HISTORY_INTERVAL = timedelta(minutes=1)
HISTORY_PAGE = 15
# How far Slack's clock and ours may disagree, around the attempt's window.
CLOCK_SKEW = timedelta(minutes=1)


def key_of(message: dict[str, Any]) -> str | None:
    """The ledger key a message carries in its metadata (None: not one of ours)."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != ids.DELIVERY_EVENT_TYPE:
        return None
    key = (metadata.get("event_payload") or {}).get("key")
    return str(key) if key else None


def window(delivery: Delivery) -> tuple[float, float | None]:
    """Slack's time span in which the in-doubt attempt can have landed (``oldest``, ``latest``)."""
    if delivery.attempted_at is None:  # claimed before attempts were timed: from the claim on
        return (delivery.created_at - timedelta(minutes=5)).timestamp(), None
    oldest = delivery.attempted_at - CLOCK_SKEW
    return oldest.timestamp(), (delivery.attempted_at + ledger.LEASE + CLOCK_SKEW).timestamp()


def look_for(services: Services, client: WebClient, delivery: Delivery, clock: JobClock) -> Outcome:
    """Look for an in-doubt message; ``Outcome()`` means: looked everywhere, not there, safe to send."""
    channel = delivery.sent_channel or delivery.channel
    try:
        if channel.startswith(("U", "W")):
            opened = client.api_call("conversations.open", json={"users": channel})
            channel = str((opened.get("channel") or {}).get("id") or channel)
    except Exception as exc:
        log.warning("could not open the DM to look for %s: %s", delivery.key, exc)
        return Outcome(error="in_doubt_unresolved", in_doubt=True)
    real_now = services.now()
    with services.db.write() as session:
        next_turn = ledger.take_budget(
            session, team_id=delivery.team_id, method=HISTORY_METHOD, now=real_now,
            interval=HISTORY_INTERVAL,
        )  # fmt: skip
    if next_turn is not None:
        wait = max((next_turn - real_now).total_seconds(), 1.0)
        return Outcome(error="in_doubt_check_waits_for_slack", in_doubt=True, retry_after=wait)
    oldest, latest = window(delivery)
    params: dict[str, Any] = {
        "channel": channel, "oldest": f"{oldest:.6f}", "inclusive": "true",
        "limit": HISTORY_PAGE, "include_all_metadata": "true",
    }  # fmt: skip
    if latest is not None:
        params["latest"] = f"{latest:.6f}"
    if delivery.check_cursor:
        params["cursor"] = delivery.check_cursor
    method = HISTORY_METHOD
    if delivery.payload.get("thread_ts"):  # a reply is found in its thread, not in the channel's history
        method, params["ts"] = "conversations.replies", delivery.payload["thread_ts"]
    try:
        history = client.api_call(method, params=params, http_verb="GET")
    except SlackApiError as exc:
        error = str(exc.response.get("error") or f"http_{exc.response.status_code}")
        if exc.response.status_code == 429:
            wait = retry_after_of(exc) or HISTORY_INTERVAL.total_seconds()
            with services.db.write() as session:
                ledger.hold_budget(
                    session, team_id=delivery.team_id, method=HISTORY_METHOD,
                    until=services.now() + timedelta(seconds=wait),
                )  # fmt: skip
            return Outcome(error="in_doubt_check_waits_for_slack", in_doubt=True, retry_after=wait)
        if error == "thread_not_found" and method != HISTORY_METHOD:
            return Outcome(error=error, permanent=True)  # the thread's first message is gone
        if error in PERMANENT_ERRORS:
            # It can never be checked (e.g. a missing history scope): better failed and visible than doubled.
            return Outcome(error=f"cannot check whether it was sent ({error}); not resent", permanent=True)
        log.warning("could not look for %s in history: %s", delivery.key, error)
        return Outcome(error="in_doubt_unresolved", in_doubt=True)
    except Exception as exc:
        log.warning("could not look for %s in history: %s", delivery.key, exc)
        return Outcome(error="in_doubt_unresolved", in_doubt=True)
    messages = history.get("messages") or []
    _settle_others(services, delivery, channel, messages, clock)
    for message in messages:
        if key_of(message) == delivery.key:
            return Outcome(ts=message.get("ts"), channel=channel)
    cursor = str((history.get("response_metadata") or {}).get("next_cursor") or "")
    if history.get("has_more") and cursor:
        with services.db.write() as session:
            ledger.mark_checking(session, delivery_id=delivery.id, cursor=cursor)
        return Outcome(
            error="in_doubt_check_continues", in_doubt=True, retry_after=HISTORY_INTERVAL.total_seconds()
        )
    return Outcome()  # looked, not there: safe to send


def _settle_others(
    services: Services, delivery: Delivery, channel: str, messages: list[dict[str, Any]], clock: JobClock
) -> None:
    """Other in-doubt messages of the workspace found on the same page are sent: one call settles many."""
    keys = {key: str(m.get("ts")) for m in messages if (key := key_of(m))}
    keys.pop(delivery.key, None)
    if keys:
        with services.db.write() as session:
            ledger.settle_found(
                session, team_id=delivery.team_id, found=keys, channel=channel, now=clock.now()
            )
