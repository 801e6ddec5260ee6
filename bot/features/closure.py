"""Closing a project from its modal, once the form is checked and acknowledged: close it with its
retrospective, deliver the report through the ledger (:mod:`bot.jobs.closing`), tell the person who closed
it what happened and where the report went, and place the closing survey's people in the directory.

Nothing here raises: every failure is logged and told to the closer in their language.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.blocks.closure import closed_confirmation
from bot.blocks.rendering import render
from bot.domain.errors import UserError
from bot.domain.retrospective import Closing
from bot.features.survey_people import learn_for_open_survey
from bot.i18n import apology, error_text
from bot.jobs.closing import ReportOutcome, close_project, deliver_report
from bot.slack.gateway import SlackGateway
from bot.slack.services import Services

log = logging.getLogger(__name__)


def close_and_report(
    services: Services,
    gateway: SlackGateway,
    *,
    team_id: str,
    project_id: int,
    project_key: str,
    user_id: str,
    channel_id: Any,
    summary: str,
    lessons: str,
    locale: str,
) -> None:
    """Close the project and deliver its report; the closer hears how it went (in the channel, else by DM)."""
    try:
        closing = close_project(
            services,
            team_id=team_id,
            project_id=project_id,
            user_id=user_id,
            summary=summary,
            lessons=lessons,
        )
    except UserError as error:  # closed meanwhile, or no longer theirs
        _tell_closer(gateway, channel_id=channel_id, user_id=user_id, text=error_text(locale, error))
        return
    except Exception:
        log.exception("closing project %s failed", project_key)
        _tell_closer(
            gateway, channel_id=channel_id, user_id=user_id, text=apology(locale, "closing a project")
        )
        return
    try:
        _after_closing(services, gateway, closing, user_id=user_id, channel_id=channel_id)
    except Exception:
        log.exception("delivering the retrospective report of %s failed", closing.project.key)
    if closing.survey_started:  # who is of another organisation: asked on a card, not by DM
        try:
            learn_for_open_survey(services, gateway.client, project_id=project_id)
        except Exception:
            log.exception("looking up the closing survey's people of %s failed", closing.project.key)


def _tell_closer(gateway: SlackGateway, *, channel_id: Any, user_id: str, text: str) -> None:
    """Only the person who closed the project sees it: in the channel, else by DM."""
    gateway.tell_privately(channel=str(channel_id) if channel_id else None, user=user_id, text=text)


def _after_closing(
    services: Services, gateway: SlackGateway, closing: Closing, *, user_id: str, channel_id: Any
) -> None:
    project = closing.project
    try:
        delivered = deliver_report(services, closing)
    except Exception:
        log.exception("posting the retrospective report of %s failed", project.key)
        delivered = ReportOutcome(failed="internal_error")
    notice = render("project_closed.j2", project.locale, user_id=user_id, key=project.key, name=project.name)
    if channel_id:
        gateway.post(channel=str(channel_id), text=notice)
    survey_error = error_text(project.locale, closing.survey_error) if closing.survey_error else None
    text = closed_confirmation(
        closing.report,
        report_channel=delivered.channel,
        shared=delivered.shared,
        refused=delivered.refused,
        report_failed=delivered.failed,
        file_failed=delivered.file_failed,
        survey_started=closing.survey_started,
        survey_error=survey_error,
        summary_channel=delivered.summary_channel,
        summary_failed=delivered.summary_failed,
    )
    _tell_closer(gateway, channel_id=channel_id, user_id=user_id, text=text)
