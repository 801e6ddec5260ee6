"""The people directory: filled from paged ``users.list``, kept fresh by ``user_change`` events.

``users.list`` is a Tier 2 method (about 20 calls a minute) and answers HTTP 429 with
``Retry-After`` when called faster (https://docs.slack.dev/apis/web-api/rate-limits,
https://docs.slack.dev/reference/methods/users.list). So a sync stores each page together
with the cursor of the next one (table ``directory_syncs``), and on a 429 stores the instant
Slack allows the next call: the next sync resumes from that page instead of starting over,
and nobody sleeps on it. Every page is written in its own short transaction, after the call
that fetched it returned: no transaction is ever open across a Slack call.

A sync never runs in a listener thread: listeners hand it to the background pool
(``Services.background``); jobs and the CLI, which have none, run it in place, and the
scheduler's tick resumes every sync a rate limit interrupted once Slack allows it.

People of another organisation (Slack Connect) are not in ``users.list``; they are fetched
one by one with ``users.info``, whose user object carries their own ``team_id``
(https://docs.slack.dev/reference/methods/users.info), kept as the person's home team.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.people import get_person, upsert_member
from bot.slack.services import Services
from bot.slack.transport import KeepAliveWebClient
from storage.db import Database
from storage.models import DirectorySync

log = logging.getLogger(__name__)

T = TypeVar("T")

PAGE_SIZE = 200
# Pages one sync run fetches at most (50,000 people at 200 a page); the next run goes on from there.
MAX_PAGES = 250
# How long a failed sync (or fetch of one person) is not retried; a 429 waits what Slack says instead.
RETRY_AFTER_SECONDS = 300.0

# Per database (so per process and per test): person fetches that found nobody (key → monotonic time),
# and the workspaces whose sync is running in this process.
_failed: WeakKeyDictionary[Database, dict[str, float]] = WeakKeyDictionary()
_running: WeakKeyDictionary[Database, set[str]] = WeakKeyDictionary()
_lock = threading.Lock()


def store_members(
    services: Services,
    team_id: str,
    members: Sequence[dict[str, Any]],
    *,
    also: Callable[[Session], None] | None = None,
) -> int:
    """Upsert ``members`` (and run ``also``) in one short write transaction; returns how many were stored.

    Another process storing the same new person at the same moment makes the
    insert collide on ``(team_id, user_id)``: the batch is then retried once, and
    finds that row to update.
    """
    members = [m for m in members if isinstance(m, dict) and m.get("id")]
    if not members and also is None:
        return 0
    for attempt in (1, 2):
        try:
            with services.db.write() as session:
                now = services.now()
                for member in members:
                    upsert_member(session, team_id=team_id, member=member, now=now)
                if also is not None:
                    also(session)
            return len(members)
        except IntegrityError:
            if attempt == 2:
                raise
            log.info("directory: concurrent insert for team %s, retrying the batch", team_id)
    return 0  # pragma: no cover - the loop returns or raises


# -- where a sync stands ---------------------------------------------------------------------------------


def _note_progress(
    team_id: str, now: datetime, *, cursor: str | None, complete: bool, stored: int,
    next_at: datetime | None = None, error: str | None = None,
) -> Callable[[Session], None]:  # fmt: skip
    def write(session: Session) -> None:
        row = session.get(DirectorySync, team_id)
        if row is None:
            row = DirectorySync(team_id=team_id, stored=0)
            session.add(row)
        row.cursor = cursor
        row.complete = complete
        row.stored = (row.stored or 0) + stored
        row.next_at = next_at
        row.error = error
        row.updated_at = now

    return write


def sync_due(session: Session, *, team_id: str, now: datetime) -> bool:
    """Whether the workspace's directory still needs (more of) a sync that Slack allows now.

    People stored one by one (an event, a preference) do not make a synced directory; only a
    finished sync does (migration 0008 marked the directories synced before it as finished).
    """
    row = session.get(DirectorySync, team_id)
    if row is None:
        return True
    return not row.complete and (row.next_at is None or row.next_at <= now)


def _retry_after(exc: SlackApiError) -> float | None:
    """Seconds Slack asks to wait when it refused the call for its rate limit, else None."""
    response = exc.response
    if response.status_code != 429 and response.get("error") != "ratelimited":
        return None
    headers = response.headers or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(0.0, float(value)) if value is not None else 60.0
    except (TypeError, ValueError):
        return 60.0


def _users_page(client: WebClient, cursor: str | None) -> dict[str, Any]:
    # A form-encoded POST: every Web API method accepts it, and the arguments travel in the body.
    data: dict[str, Any] = {"limit": PAGE_SIZE, "include_locale": "true"}
    if cursor:
        data["cursor"] = cursor
    response = client.api_call("users.list", data=data)
    return dict(response.data) if isinstance(response.data, dict) else {}


def _without_retries(client: WebClient) -> WebClient:
    """The same workspace's client, without automatic retries: a 429 here is stored, never slept on."""
    return KeepAliveWebClient(
        token=client.token, base_url=client.base_url, timeout=client.timeout, retry_handlers=[]
    )


def sync_directory(services: Services, client: WebClient, team_id: str) -> int:
    """Fetch ``users.list`` pages from where the last sync stopped; returns how many people this run stored.

    Does nothing before the instant the last run was told to wait for. Never raises for
    Slack or network trouble: it logs, keeps the pages already stored, and notes where to
    resume and when.
    """
    now = services.now()
    with services.db.read() as session:
        row = session.get(DirectorySync, team_id)
        if row is not None and row.next_at is not None and row.next_at > now:
            log.info("directory of team %s: next users.list call allowed at %s", team_id, row.next_at)
            return 0
        cursor = row.cursor if row is not None and not row.complete else None
    client = _without_retries(client)
    stored = 0
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        try:
            page = _users_page(client, cursor)
        except Exception as exc:
            wait = _retry_after(exc) if isinstance(exc, SlackApiError) else None
            reason = (
                str(exc.response.get("error") or f"http_{exc.response.status_code}")
                if isinstance(exc, SlackApiError)
                else f"network_error: {type(exc).__name__}"
            )
            pause = RETRY_AFTER_SECONDS if wait is None else wait
            log.warning(
                "users.list failed for team %s: %s (%s people stored in this run; resuming in %ss)",
                team_id, reason, stored, pause,
            )  # fmt: skip
            at = services.now()
            store_members(
                services, team_id, [],
                also=_note_progress(team_id, at, cursor=cursor, complete=False, stored=0,
                                    next_at=at + timedelta(seconds=pause), error=reason[:100]),
            )  # fmt: skip
            return stored
        members = page.get("members") or []
        members = members if isinstance(members, list) else []
        next_cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "") or None
        if next_cursor in seen:
            log.warning("users.list repeated a cursor for team %s; stopping", team_id)
            next_cursor = None
        stored += store_members(
            services, team_id, members,
            also=_note_progress(team_id, services.now(), cursor=next_cursor, complete=next_cursor is None,
                                stored=len(members)),
        )  # fmt: skip
        if next_cursor is None:
            log.info("directory of team %s synced (%s people in this run)", team_id, stored)
            return stored
        seen.add(next_cursor)
        cursor = next_cursor
    log.warning("users.list for team %s has more than %s pages; the next sync goes on", team_id, MAX_PAGES)
    return stored


# -- one person -----------------------------------------------------------------------------------------


def _fetch_person(services: Services, client: WebClient, team_id: str, user_id: str) -> int:
    try:
        response = client.api_call("users.info", data={"user": user_id, "include_locale": "true"})
    except SlackApiError as exc:
        log.warning("users.info %s failed: %s", user_id, exc.response.get("error", "unknown_error"))
        return 0
    except Exception as exc:
        log.warning("users.info %s failed: %s", user_id, exc)
        return 0
    member = response.get("user")
    return store_members(services, team_id, [member] if isinstance(member, dict) else [])


def fetch_missing(services: Services, client: WebClient, team_id: str, user_id: str) -> int:
    """Fetch ``user_id`` alone (``users.info``) when the directory does not know them; returns 1 when stored.

    Someone who joined after the sync, or of another organisation. A fetch that found nobody
    is not repeated for :data:`RETRY_AFTER_SECONDS`, so one unknown id costs no call per event.
    """
    with services.db.read() as session:
        if get_person(session, team_id=team_id, user_id=user_id) is not None:
            return 0
    key = f"{team_id}:{user_id}"
    failed = _failed.setdefault(services.db, {})
    last = failed.get(key)
    if last is not None and time.monotonic() - last < RETRY_AFTER_SECONDS:
        return 0
    stored = _fetch_person(services, client, team_id, user_id)
    if stored:
        failed.pop(key, None)
    else:
        failed[key] = time.monotonic()
    return stored


# -- what listeners call ------------------------------------------------------------------------------


def _start(services: Services, team_id: str) -> bool:
    with _lock:
        running = _running.setdefault(services.db, set())
        if team_id in running:
            return False
        running.add(team_id)
        return True


def _finish(services: Services, team_id: str) -> None:
    with _lock:
        _running.get(services.db, set()).discard(team_id)


def _sync_then(
    services: Services, client: WebClient, team_id: str, user_id: str | None, then: Callable[[], Any]
) -> None:
    """In the background pool: the sync, the one person still missing, then what was waiting for them."""
    try:
        sync_directory(services, client, team_id)
        if user_id:
            fetch_missing(services, client, team_id, user_id)
        then()
    except Exception:
        log.exception("directory sync of team %s, or the work after it, failed", team_id)
    finally:
        _finish(services, team_id)


def with_directory(
    services: Services, client: WebClient, team_id: str, user_id: str | None, then: Callable[[], T]
) -> T | None:
    """Run ``then`` once the directory can answer for the workspace (and ``user_id``).

    When a sync is due, it goes to the background pool followed by ``then`` (None is returned at
    once: no listener waits for a sync). Otherwise the missing person alone is fetched, and
    ``then()`` runs here; its result is returned. Without a background pool (jobs, the CLI) the
    sync runs in place.
    """
    with services.db.read() as session:
        due = sync_due(session, team_id=team_id, now=services.now())
    if due and _start(services, team_id):
        if services.background is not None:
            try:
                services.background.submit(_sync_then, services, client, team_id, user_id, then)
                return None
            except RuntimeError:  # the pool is shutting down: no sync now, the next need starts it
                log.warning("directory sync of team %s not started: the background pool is closed", team_id)
                _finish(services, team_id)
        else:
            try:
                sync_directory(services, client, team_id)
            finally:
                _finish(services, team_id)
    if user_id:
        fetch_missing(services, client, team_id, user_id)
    return then()


def resume_syncs(services: Services, client_for: Callable[[str], WebClient | None]) -> int:
    """Go on with every sync a rate limit or a failure stopped, once Slack allows it (the scheduler's tick).

    Returns how many people were stored.
    """
    now = services.now()
    with services.db.read() as session:
        teams = list(
            session.scalars(
                select(DirectorySync.team_id).where(
                    DirectorySync.complete.is_(False),
                    or_(DirectorySync.next_at.is_(None), DirectorySync.next_at <= now),
                )
            )
        )
    stored = 0
    for team_id in teams:
        client = client_for(team_id)
        if client is not None and _start(services, team_id):
            try:
                stored += sync_directory(services, client, team_id)
            finally:
                _finish(services, team_id)
    return stored


def ensure_directory(services: Services, client: WebClient, team_id: str, user_id: str | None = None) -> None:
    """Start what the directory needs (a sync in the background, or one person's fetch) and return."""
    with_directory(services, client, team_id, user_id, lambda: None)
