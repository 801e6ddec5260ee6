"""Publishing App Home: read the dashboard in a short transaction, then ``views.publish`` outside it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.home import home_view
from bot.domain.dashboard import dashboard
from bot.domain.people import bots_and_leavers, locale_of, set_notify_assignments
from bot.slack.directory import fetch_missing, with_directory
from bot.slack.services import Services

log = logging.getLogger(__name__)

# Slack's own bot and the placeholder of a deleted or unknown author: they have no App Home.
NOT_PEOPLE = frozenset({"USLACKBOT"})


def _publish(client: WebClient, *, user_id: str, view: dict[str, Any]) -> bool:
    try:
        client.api_call("views.publish", json={"user_id": user_id, "view": view})
    except SlackApiError as exc:
        log.warning("views.publish for %s failed: %s", user_id, exc.response.get("error", "unknown_error"))
        return False
    except Exception as exc:  # network errors, timeouts
        log.warning("views.publish for %s failed: %s", user_id, exc)
        return False
    return True


def build_home(services: Services, team_id: str, user_id: str) -> dict[str, Any]:
    """The person's home view, in their Slack locale (else their first project's, else the default)."""
    with services.db.read() as session:
        board = dashboard(session, team_id=team_id, user_id=user_id, now=services.now())
        fallback = board.projects[0].project.locale if board.projects else services.default_locale
        locale = locale_of(session, team_id=team_id, user_id=user_id, default=fallback)
    return home_view(board, locale)


def _publish_home_now(services: Services, client: WebClient, team_id: str, user_id: str) -> bool:
    return _publish(client, user_id=user_id, view=build_home(services, team_id, user_id))


def publish_home(services: Services, client: WebClient, team_id: str, user_id: str) -> bool:
    """Draw ``user_id``'s App Home; True when Slack took it. Never raises for Slack trouble.

    While the workspace's directory is still being synced the home is drawn after the sync, in
    the background (False: not drawn yet), so it comes in the person's language.
    """
    return bool(
        with_directory(
            services, client, team_id, user_id, lambda: _publish_home_now(services, client, team_id, user_id)
        )
    )


def refresh_homes(services: Services, client: WebClient, team_id: str, user_ids: Iterable[str | None]) -> int:
    """Redraw the App Home of everyone in ``user_ids`` (e.g. old and new assignee after a change).

    Duplicates and ``None`` are dropped; bots and deactivated people are skipped when the
    directory knows them. Each home is read in its own short transaction and published
    after it ends. Returns how many homes Slack took now (0 when they wait for a directory
    sync in the background). Never raises.
    """
    wanted = list(dict.fromkeys(u for u in user_ids if u and u not in NOT_PEOPLE))
    if not wanted:
        return 0
    try:
        return (
            with_directory(
                services, client, team_id, None, lambda: _refresh_now(services, client, team_id, wanted)
            )
            or 0
        )
    except Exception:
        log.exception("refresh_homes: could not read the directory of team %s", team_id)
        return 0


def redraw_homes(services: Services, client: WebClient, team_id: str, user_ids: Iterable[str | None]) -> None:
    """Redraw these App Homes after the work in hand: through the post-ack queue, one waiting redraw
    per person (a burst of changes for someone draws their Home once, from the latest state), after
    the work people asked for. Without a queue (jobs, the CLI) at once, as :func:`refresh_homes`.
    """
    queue = services.after_ack
    if queue is None:
        refresh_homes(services, client, team_id, user_ids)
        return
    for user_id in dict.fromkeys(u for u in user_ids if u and u not in NOT_PEOPLE):
        queue.redraw(
            ("home", team_id, user_id),
            lambda user_id=user_id: refresh_homes(services, client, team_id, [user_id]),  # type: ignore[misc]
        )


def _refresh_now(services: Services, client: WebClient, team_id: str, wanted: list[str]) -> int:
    with services.db.read() as session:
        skip = bots_and_leavers(session, team_id=team_id, user_ids=wanted)
    published = 0
    for user_id in wanted:
        if user_id in skip:
            continue
        try:
            fetch_missing(services, client, team_id, user_id)
            published += _publish_home_now(services, client, team_id, user_id)
        except Exception:
            log.exception("refresh_homes: App Home of %s in team %s failed", user_id, team_id)
    return published


def set_assignment_dms(services: Services, *, team_id: str, user_id: str, enabled: bool) -> None:
    """The App Home preference: whether the person is told by DM when a record is assigned to them."""
    with services.db.write() as session:
        set_notify_assignments(session, team_id=team_id, user_id=user_id, enabled=enabled)
