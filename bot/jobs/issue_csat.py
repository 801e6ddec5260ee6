"""The satisfaction card of a resolved issue, posted in the issue's thread through the ledger.

Called after a change is saved (:func:`bot.features.record_cards.after_change`), never inside its transaction: the
survey of this resolution is made (or found) in one short transaction, then the card is claimed under
``issue-csat:<team>:<record>:<resolution>`` and sent at once. A failed send stays pending and the
``surveys`` job retries it (kind ``survey``); a second call for the same resolution sends nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from bot.blocks.survey_card import Card, survey_card
from bot.delivery.base import DeliveryKind, JobContext, Outgoing
from bot.delivery.runner import ClientFor, Runner, job_client_factory
from bot.domain.issue_csat import IssueCard, issue_card_due
from bot.domain.survey_schedule import mark_asked
from bot.domain.surveys import KIND_ISSUE
from bot.slack.services import Services

log = logging.getLogger(__name__)


def card_key(card: IssueCard) -> str:
    return f"issue-csat:{card.team_id}:{card.record_id}:{card.resolution}"


def outgoing(card: IssueCard, *, now_invited: datetime) -> Outgoing:
    text, blocks = survey_card(
        Card(
            survey_id=card.survey_id, kind=KIND_ISSUE, project_name=card.project_name,
            user_ids=(card.requester_id,), closes_at=card.closes_at, timezone=card.timezone,
            record_key=card.record_key, record_title=card.record_title,
        ),
        locale=card.locale,
    )  # fmt: skip
    return Outgoing(
        key=card_key(card),
        team_id=card.team_id,
        kind=DeliveryKind.SURVEY,
        text=text,
        blocks=blocks,
        channel=card.channel_id,
        thread_ts=card.thread_ts,
        project_id=card.project_id,
        on_claim=partial(mark_asked, participant_ids=(card.participant_id,), reminder=False, now=now_invited),
    )


def after_resolution(services: Services, *, record_id: int, client_for: ClientFor | None = None) -> None:
    """Post the card of the issue's current resolution, if it has one and it was not posted yet."""
    now = services.now()
    with services.db.write() as session:
        card = issue_card_due(session, record_id=record_id, now=now)
    if card is None:
        return
    runner = Runner(services, client_for or job_client_factory(services), sleep=_no_wait)

    def plan(_session: Session, _ctx: JobContext) -> list[Outgoing]:
        return [outgoing(card, now_invited=now)]

    # The project's key narrows the run to this card (other pending survey posts wait for their job).
    ctx = JobContext(now=now, team_id=card.team_id, project_key=card.project_key)
    report = runner.run([plan], ctx, kinds=[DeliveryKind.SURVEY])
    log.debug("issue satisfaction card of %s (resolution %s): %s", card.record_key, card.resolution, report)


def _no_wait(_seconds: float) -> None:
    """Never sleep after a click: a rate-limited card stays pending for the surveys job."""
