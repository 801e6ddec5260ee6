"""Survey DMs: the score buttons (1–5), "Add details" and its form.

Each answer is saved at once and the DM is redrawn in place from what was stored
(the chosen score highlighted). Whoever clicks is the person Slack vouches for in
the signed request: someone the survey was not sent to is refused, and a closed
survey accepts no more changes (its DM then loses its buttons).

The same buttons sit on survey cards in a channel or an issue's thread (``"c": 1`` in their
value, :mod:`bot.blocks.survey_card`): a card is shared by everyone who sees it, so it is
never redrawn with an answer; whoever clicks is answered privately (ephemeral) instead.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.basics import modal_errors
from bot.blocks.survey import details_modal, parse_details, survey_message
from bot.blocks.survey_card import saved_note
from bot.commands.common import Click, on_click, services_of
from bot.domain import surveys
from bot.domain.errors import N_, UserError
from bot.features import survey_answers as answers
from bot.i18n import error_text, normalise_locale
from bot.slack import ids
from bot.slack.gateway import SlackGateway
from bot.slack.payloads import metadata_of
from bot.slack.services import Services

log = logging.getLogger(__name__)

BROKEN = N_("This button is broken. Please use the command instead.")


def _ref(raw: str | None) -> dict[str, Any]:
    """A survey button's value: ``{"s": <survey id>}``, plus ``"score"`` on the score buttons."""
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError:
        value = {}
    if not isinstance(value, dict) or not isinstance(value.get("s"), int):
        raise UserError(BROKEN)
    return value


def _redraw(gateway: SlackGateway, channel: str, ts: str, dm: surveys.SurveyDm, locale: str) -> None:
    if channel and ts:
        text, blocks = survey_message(dm, locale=locale)
        gateway.update(channel=channel, ts=ts, text=text, blocks=blocks)


def _show_as_it_stands(
    services: Services, gateway: SlackGateway, survey_id: int, user_id: str, channel: str, ts: str
) -> None:
    """After a refused change (closed survey), redraw the DM as it stands; strangers see nothing change."""
    try:
        dm, locale = answers.as_it_stands(services, survey_id=survey_id, user_id=user_id)
    except UserError:
        return
    _redraw(gateway, channel, ts, dm, locale)


@on_click
def on_score_button(click: Click, body: dict[str, Any], action: dict[str, Any]) -> None:
    """A score button: store or change the score, then redraw the DM with it highlighted."""
    services, user_id = click.services, click.user_id
    ref = _ref(action.get("value"))
    score = ref.get("score")
    if not isinstance(score, int):
        raise UserError(BROKEN)
    if ref.get("c"):
        dm, click.locale = answers.answer(services, survey_id=ref["s"], user_id=user_id, score=score)
        click.tell(saved_note(score=dm.score, closes_on=dm.closes_on, locale=click.locale))
        return
    try:
        dm, click.locale = answers.answer(services, survey_id=ref["s"], user_id=user_id, score=score)
    except UserError:
        _show_as_it_stands(services, click.gateway, ref["s"], user_id, click.channel, click.ts)
        raise
    _redraw(click.gateway, click.channel, click.ts, dm, click.locale)


@on_click
def on_details_button(click: Click, body: dict[str, Any], action: dict[str, Any]) -> None:
    """The "Add details" button: open the form with the person's current answer (the trigger expires in 3 s)."""
    ref = _ref(action.get("value"))
    dm, click.locale = answers.as_it_stands(click.services, survey_id=ref["s"], user_id=click.user_id)
    locale, channel, ts = click.locale, click.channel, click.ts
    if dm.closed:
        if not ref.get("c"):
            _redraw(click.gateway, channel, ts, dm, locale)
        raise UserError(N_("This survey is closed: answers can no longer be given or changed. Thank you!"))
    metadata = {"s": dm.survey_id, "channel": channel, "ts": ts, "locale": locale}
    if ref.get("c"):
        metadata["c"] = 1
    view = details_modal(dm, locale=locale, metadata=metadata)
    click.gateway.open_form(trigger_id=str(body.get("trigger_id", "")), view=view)


_FIELD_BLOCKS = {"score": ids.BLOCK_SURVEY_SCORE, "recommend": ids.BLOCK_SURVEY_RECOMMEND}


def on_details_submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """The "Add details" form: save the whole answer (errors shown by their field), then redraw the DM."""
    services = services_of(context)
    user_id = str(body["user"]["id"])
    meta = metadata_of(view)
    locale = normalise_locale(str(meta.get("locale") or ""), services.default_locale)
    survey_id = meta.get("s")
    try:
        if not isinstance(survey_id, int):
            raise UserError(BROKEN)
        form = parse_details(view)
        if form.score is None:
            raise UserError(N_("Choose a score from 1 to 5."), field="score")
        details = surveys.Details(
            score=form.score, recommend=form.recommend, comment=form.comment, signed=form.signed
        )
        dm, locale = answers.answer(services, survey_id=survey_id, user_id=user_id, details=details)
    except UserError as error:
        block = _FIELD_BLOCKS.get(error.field or "", ids.BLOCK_SURVEY_SCORE)
        ack(**modal_errors({block: error_text(locale, error)}))
        return
    ack()
    try:
        channel, ts = meta.get("channel"), meta.get("ts")
        if meta.get("c") and isinstance(channel, str) and channel:
            note = saved_note(score=dm.score, closes_on=dm.closes_on, locale=locale)
            SlackGateway(client).post_ephemeral(channel=channel, user=user_id, text=note)
        elif isinstance(channel, str) and isinstance(ts, str):
            _redraw(SlackGateway(client), channel, ts, dm, locale)
    except Exception:
        log.exception("redrawing a survey DM failed")


def register(app: App) -> None:
    app.action(ids.SURVEY_SCORE_ACTION)(on_score_button)
    app.action(ids.ACTION_SURVEY_DETAILS)(on_details_button)
    app.view(ids.VIEW_SURVEY)(on_details_submit)
