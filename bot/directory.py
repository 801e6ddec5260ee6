"""The user directory cache: filled from paged ``users.list``, kept fresh by ``user_change`` events.

Each page is stored in its own short write transaction, after the Slack call
that fetched it has returned: no transaction is ever open across a Slack call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any
from weakref import WeakKeyDictionary

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError

from bot.domain.people import directory_size, get_person, upsert_member
from bot.services import Services
from storage.db import Database

log = logging.getLogger(__name__)

PAGE_SIZE = 200
# A guard against a cursor that never ends (50,000 people at 200 a page).
MAX_PAGES = 250
# How long an empty or failed sync (or fetch of one person) is not retried by ensure_directory.
RETRY_AFTER_SECONDS = 300.0

# Per database (so per process and per test), when a sync that stored nobody last ran: key → monotonic time.
_failed: WeakKeyDictionary[Database, dict[str, float]] = WeakKeyDictionary()


def store_members(services: Services, team_id: str, members: Sequence[dict[str, Any]]) -> int:
    """Upsert ``members`` in one short write transaction; returns how many were stored.

    Another process storing the same new person at the same moment makes the
    insert collide on ``(team_id, user_id)``: the batch is then retried once, and
    finds that row to update.
    """
    members = [m for m in members if isinstance(m, dict) and m.get("id")]
    if not members:
        return 0
    for attempt in (1, 2):
        try:
            with services.db.write() as session:
                now = services.now()
                for member in members:
                    upsert_member(session, team_id=team_id, member=member, now=now)
            return len(members)
        except IntegrityError:
            if attempt == 2:
                raise
            log.info("directory: concurrent insert for team %s, retrying the batch", team_id)
    return 0  # pragma: no cover - the loop returns or raises


def _users_page(client: WebClient, cursor: str | None) -> dict[str, Any]:
    # A form-encoded POST: every Web API method accepts it, and the arguments travel in the body.
    data: dict[str, Any] = {"limit": PAGE_SIZE, "include_locale": "true"}
    if cursor:
        data["cursor"] = cursor
    response = client.api_call("users.list", data=data)
    return dict(response.data) if isinstance(response.data, dict) else {}


def sync_directory(services: Services, client: WebClient, team_id: str) -> int:
    """Page through ``users.list`` and cache every member; returns how many were stored.

    Never raises for Slack or network trouble: it logs, keeps the pages already
    stored and returns their count (0 when the first page failed).
    """
    stored = 0
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        try:
            page = _users_page(client, cursor)
        except SlackApiError as exc:
            log.warning(
                "users.list failed for team %s: %s (%s people cached so far)",
                team_id,
                exc.response.get("error", "unknown_error"),
                stored,
            )
            return stored
        except Exception as exc:  # network errors, timeouts
            log.warning("users.list failed for team %s: %s (%s people cached so far)", team_id, exc, stored)
            return stored
        members = page.get("members") or []
        stored += store_members(services, team_id, members if isinstance(members, list) else [])
        cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "") or None
        if cursor is None:
            break
        if cursor in seen:
            log.warning("users.list repeated a cursor for team %s; stopping", team_id)
            break
        seen.add(cursor)
    else:
        log.warning("users.list for team %s has more than %s pages; stopped there", team_id, MAX_PAGES)
    log.info("directory of team %s synced: %s people", team_id, stored)
    return stored


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


def _recently_failed(services: Services, key: str) -> bool:
    last = _failed.get(services.db, {}).get(key)
    return last is not None and time.monotonic() - last < RETRY_AFTER_SECONDS


def _note(services: Services, key: str, stored: int) -> int:
    attempts = _failed.setdefault(services.db, {})
    if stored:
        attempts.pop(key, None)
    else:
        attempts[key] = time.monotonic()
    return stored


def ensure_directory(services: Services, client: WebClient, team_id: str, user_id: str | None = None) -> int:
    """Fill the cache when it is empty; returns how many people were stored.

    With nobody cached for the workspace, the whole directory is synced. With
    ``user_id`` given and that one person missing (someone who joined after the
    sync), only they are fetched (``users.info``). Otherwise no Slack call at all:
    one cheap read, safe on every App Home visit and after every change. A sync or
    fetch that stored nobody (missing scope, Slack down) is not retried for
    :data:`RETRY_AFTER_SECONDS`, so a broken workspace does not cost a call per event.
    """
    with services.db.read() as session:
        if directory_size(session, team_id=team_id) == 0:
            key = team_id
        elif user_id and get_person(session, team_id=team_id, user_id=user_id) is None:
            key = f"{team_id}:{user_id}"
        else:
            return 0
    if _recently_failed(services, key):
        return 0
    if user_id and key != team_id:
        return _note(services, key, _fetch_person(services, client, team_id, user_id))
    return _note(services, key, sync_directory(services, client, team_id))
