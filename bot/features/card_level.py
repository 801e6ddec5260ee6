"""The service-level line on record cards posted in channels — only where the channel is internal.

Issue 13 item 7: internal cards show the service-level state. A channel card does not know by itself whether
its channel is shared, so where a card is posted or redrawn the audience policy decides
(:class:`bot.delivery.audience.SharedChannels`: ``conversations.info``, members, the one rule for who is internal).
It fails closed: a shared channel, or one Slack cannot tell about, gets the card without figures. DMs to
internal people (the assignment DM) show the line already (:func:`bot.features.record_cards.notify_assignee`).

``conversations.info`` is Tier 3, so the decision is cached per (team, channel) for :data:`CACHE_FOR` (by the
bot's clock, per database); a channel that becomes shared meanwhile may still get figures on a card drawn
within that minute. Slack is never asked inside a DB transaction.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from slack_sdk import WebClient

from bot.blocks.basics import context
from bot.blocks.sla import state_line
from bot.delivery.audience import SharedChannels, project_audience
from bot.domain.service_levels import service_level_now
from bot.slack.services import Services
from storage.db import Database

log = logging.getLogger(__name__)

CACHE_FOR = timedelta(seconds=60)
# Per database (each app, each test): (team, channel) -> (until, shared).
_caches: WeakKeyDictionary[Database, dict[tuple[str, str], tuple[datetime, bool]]] = WeakKeyDictionary()
_lock = threading.Lock()

Block = dict[str, Any]


def forget_channel(services: Services, team_id: str, channel: str) -> None:
    """Drop the cached decision of one channel (e.g. when it was just shared)."""
    with _lock:
        _caches.get(services.db, {}).pop((team_id, channel), None)


def channel_is_internal(
    services: Services,
    client: WebClient | None,
    *,
    team_id: str,
    project_id: int,
    channel: str,
) -> bool:
    """Whether ``channel`` is internal by the audience policy (shared or unknown: False)."""
    if client is None or not channel or channel[0] in "UWD":  # a DM here is the user id: not a channel card
        return False
    key = (team_id, channel)
    now = services.now()
    with _lock:
        cache = _caches.setdefault(services.db, {})
        cached = cache.get(key)
    if cached is not None and cached[0] > now:
        return not cached[1]
    with services.db.read() as session:
        audience = project_audience(session, project_id=project_id)
    contacts = audience.customer_contacts if audience is not None else frozenset()
    try:
        shared = SharedChannels(services, lambda _team: client).is_shared(team_id, channel, contacts=contacts)
    except Exception:
        log.exception("could not tell whether %s is shared: no service-level figures", channel)
        return False
    with _lock:
        cache[key] = (now + CACHE_FOR, shared)
    return not shared


def with_level(
    services: Services,
    client: WebClient | None,
    *,
    team_id: str,
    project_id: int,
    record_id: int,
    channel: str,
    locale: str,
    blocks: list[Block],
) -> list[Block]:
    """The card's blocks, with the service-level line under its facts when the record has a service level and
    ``channel`` is internal."""
    with services.db.read() as session:
        level = service_level_now(session, record_id=record_id, now=services.now())
    if level is None:
        return blocks
    if not channel_is_internal(services, client, team_id=team_id, project_id=project_id, channel=channel):
        return blocks
    return [*blocks[:2], context(state_line(level, locale)), *blocks[2:]]
