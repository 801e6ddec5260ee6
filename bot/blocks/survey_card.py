"""Block Kit for survey cards posted where the customer is: the project channel, or an issue's thread.

One card mentions the people it asks (people of another organisation, whom the bot cannot DM; or an
issue's requester). It is the same for everyone who sees it: it never shows anyone's answer. Its
buttons carry the survey id, the score and ``"c": 1`` (a card: answered privately, never redrawn).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from bot.blocks.basics import Block, _button, context, section
from bot.blocks.rendering import render
from bot.domain.surveys import SCORES
from bot.i18n import format_date, t
from bot.slack import ids

MAX_FALLBACK_TEXT = 3000
# Mentions shown on one card (a survey asks the project's contacts: far fewer in practice).
MAX_MENTIONS = 100


@dataclass(frozen=True)
class Card:
    survey_id: int
    kind: str  # closing | on_demand | pulse | issue
    project_name: str
    user_ids: tuple[str, ...]
    closes_at: datetime
    timezone: str
    record_key: str = ""
    record_title: str = ""

    @property
    def closes_on(self) -> date:
        return self.closes_at.astimezone(ZoneInfo(self.timezone)).date()


def survey_card(card: Card, *, locale: str, reminder: bool = False) -> tuple[str, list[Block]]:
    """The card: who is asked (mentioned), the question, 1–5 and "Add details"."""
    text = render(
        "survey_card.j2",
        locale,
        card=SimpleNamespace(
            user_ids=card.user_ids[:MAX_MENTIONS],
            reminder=reminder,
            kind=card.kind,
            name=card.project_name,
            record_key=card.record_key,
            record_title=card.record_title,
            closes_on=card.closes_on,
        ),
    )
    elements = [
        _button(str(score), ids.survey_score_action(score), {"s": card.survey_id, "score": score, "c": 1})
        for score in SCORES
    ]
    elements.append(
        _button(t(locale, "Add details"), ids.ACTION_SURVEY_DETAILS, {"s": card.survey_id, "c": 1})
    )
    blocks: list[Block] = [
        section(text),
        {"type": "actions", "block_id": f"survey_card:{card.survey_id}", "elements": elements},
        context(
            t(locale, "Your answer is anonymous unless you choose to show your name (under Add details).")
        ),
    ]
    return text[:MAX_FALLBACK_TEXT], blocks


def saved_note(*, score: int | None, closes_on: date, locale: str) -> str:
    """What the person who answered on a card is told, privately."""
    if score is None:
        return t(locale, "Thank you! Your answer is saved.")
    return t(
        locale,
        "Thank you! Your answer (%(score)s / 5) is saved; you can change it until %(date)s.",
        score=score,
        date=format_date(closes_on, locale),
    )
