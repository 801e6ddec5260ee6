"""Who a survey asks: the survey key for their answers, and the people the directory does not place yet.

Shared by the survey listeners, ``/project survey`` and closing a project (:mod:`bot.features.closure`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from slack_sdk import WebClient

from bot.domain import surveys
from bot.domain.survey_channel import unknown_people
from bot.slack.directory import store_members
from bot.slack.services import Services
from storage.models import Survey

log = logging.getLogger(__name__)


def survey_key(services: Services) -> bytes:
    """The survey key, from the first server secret set: signing secret, client secret, bot token.

    Every process that handles Slack requests must have the same one; changing it
    makes answers given before unchangeable (never doubled).
    """
    settings = services.settings
    return surveys.derive_key(
        settings.slack_signing_secret or settings.slack_client_secret or settings.slack_bot_token or ""
    )


def learn_who_is_asked(services: Services, client: WebClient, *, survey_id: int) -> None:
    """Ask ``users.info`` about participants the directory does not place yet (after the survey is saved).

    Whether someone is of another organisation — asked on a card in the project channel rather than by
    DM — is read from the directory by the surveys job; this fills it for newcomers. Failures are logged:
    such a person is then asked by DM, and a DM Slack refuses is reported to the owners by the ledger.
    """
    with services.db.read() as session:
        survey = session.get(Survey, survey_id)
        team_id = survey.team_id if survey is not None else ""
        unknown = unknown_people(session, survey_id=survey_id)
    learn_people(services, client, team_id=team_id, user_ids=unknown)


def learn_people(services: Services, client: WebClient, *, team_id: str, user_ids: Iterable[str]) -> None:
    """Ask ``users.info`` about each of ``user_ids`` and keep the answers in the directory (outside any
    transaction). A failure is logged: that person is then asked by DM."""
    found: list[dict[str, Any]] = []
    for user_id in user_ids:
        try:
            found.append(dict(client.users_info(user=user_id).get("user") or {}))
        except Exception as exc:
            log.warning("users.info %s failed (%s): they will be asked by DM", user_id, exc)
    if found:
        store_members(services, team_id, found)


def learn_for_open_survey(services: Services, client: WebClient, *, project_id: int) -> None:
    """:func:`learn_who_is_asked` for the project's open survey (the closing survey, just started)."""
    with services.db.read() as session:
        survey = surveys.open_survey_of(session, project_id=project_id, now=services.now())
        survey_id = survey.id if survey is not None else None
    if survey_id is not None:
        learn_who_is_asked(services, client, survey_id=survey_id)
