"""Block Kit for surveys: the DM (score buttons), the "Add details" form, the results and notices.

Pure: plain data in, Slack JSON out. The buttons carry only the survey id (and the
score): who clicks is what Slack vouches for, and no secret ever sits in a message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.basics import MAX_SECTION_TEXT, Block, _button, context, plain, section
from bot.blocks.rendering import render, slack_gettext
from bot.domain.errors import N_
from bot.domain.survey_results import SurveyResults
from bot.domain.surveys import (
    KIND_CLOSING,
    KIND_ON_DEMAND,
    KIND_PULSE,
    MAX_COMMENT,
    MIN_ANSWERS_SHOWN,
    RECOMMEND_SCORES,
    SCORES,
    SurveyDm,
)
from bot.i18n import t
from bot.slack import ids
from bot.slack.text import shorten

MAX_BLOCKS = 50
MAX_FALLBACK_TEXT = 3000
# A comment in the results is cut here (the whole of it is in the export).
MAX_COMMENT_SHOWN = 500
BAR_WIDTH = 10

KIND_LABELS = {
    KIND_CLOSING: N_("closing survey"),
    KIND_ON_DEMAND: N_("on-demand survey"),
    KIND_PULSE: N_("pulse survey"),
}
FORM_INTRO = N_("Your answer to the survey of *%(name)s* (%(key)s).")


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


# -- the DM -------------------------------------------------------------------------------------------


def _dm_context(dm: SurveyDm, reminder: bool) -> SimpleNamespace:
    return SimpleNamespace(
        key=dm.project_key,
        name=dm.project_name,
        kind=dm.kind,
        role=dm.role,
        reminder=reminder,
        closed=dm.closed,
        score=dm.score,
        recommend=dm.recommend,
        comment=bool(dm.comment),
        closes_on=dm.closes_on,
    )


def survey_message(dm: SurveyDm, *, locale: str, reminder: bool = False) -> tuple[str, list[Block]]:
    """A recipient's survey DM: the question, score buttons 1–5 (their choice highlighted) and, once
    they answered, "Add details". Closed surveys show the answer without buttons. Used to send the
    invitation and the reminder, and to redraw the DM after each answer.
    """
    text = render("survey_invite.j2", locale, survey=_dm_context(dm, reminder))
    blocks: list[Block] = [section(text)]
    if not dm.closed:
        elements = [
            _button(
                str(score),
                ids.survey_score_action(score),
                {"s": dm.survey_id, "score": score},
                "primary" if dm.score == score else None,
            )
            for score in SCORES
        ]
        if dm.answered:
            label = (
                t(locale, "Change details")
                if dm.recommend is not None or dm.comment
                else t(locale, "Add details")
            )
            elements.append(_button(label, ids.ACTION_SURVEY_DETAILS, {"s": dm.survey_id}))
        blocks.append(
            {
                "type": "actions",
                # A new block id for each state of the answer, as Slack asks of updated messages.
                "block_id": f"survey:{dm.survey_id}:{dm.score or 0}:{int(dm.signed)}",
                "elements": elements,
            }
        )
        privacy = (
            t(locale, "Your name is shown with your answer.")
            if dm.signed
            else t(
                locale, "Your answer is anonymous unless you choose to show your name (under Add details)."
            )
        )
        blocks.append(context(privacy))
    return text[:MAX_FALLBACK_TEXT], blocks


def _options(values: range, labels: dict[int, str] | None = None) -> list[dict[str, Any]]:
    return [
        {"text": plain((labels or {}).get(value, str(value))[:75]), "value": str(value)} for value in values
    ]


def details_modal(dm: SurveyDm, *, locale: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """The "Add details" form: the score, likelihood to recommend (0–10), a comment, and "show my name"."""
    score_labels = {
        1: t(locale, "1 – very dissatisfied"),
        5: t(locale, "5 – very satisfied"),
    }
    recommend_labels = {0: t(locale, "0 – not at all likely"), 10: t(locale, "10 – extremely likely")}
    score_options = _options(SCORES, score_labels)
    recommend_options = _options(RECOMMEND_SCORES, recommend_labels)
    score_select: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.ACTION_SURVEY_SCORE_SELECT,
        "options": score_options,
    }
    if dm.score is not None:
        score_select["initial_option"] = score_options[dm.score - SCORES.start]
    recommend_select: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.ACTION_SURVEY_RECOMMEND,
        "placeholder": plain(t(locale, "Choose 0 to 10")),
        "options": recommend_options,
    }
    if dm.recommend is not None:
        recommend_select["initial_option"] = recommend_options[dm.recommend - RECOMMEND_SCORES.start]
    comment: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.ACTION_SURVEY_COMMENT,
        "multiline": True,
        "max_length": MAX_COMMENT,
    }
    if dm.comment:
        comment["initial_value"] = dm.comment[:MAX_COMMENT]
    sign_option = {"text": plain(t(locale, "Show my name with my answer")), "value": ids.SURVEY_SIGN_VALUE}
    sign: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": ids.ACTION_SURVEY_SIGN,
        "options": [sign_option],
    }
    if dm.signed:
        sign["initial_options"] = [sign_option]
    intro = str(slack_gettext(locale, FORM_INTRO, name=dm.project_name, key=dm.project_key))
    return {
        "type": "modal",
        "callback_id": ids.VIEW_SURVEY,
        "title": plain(t(locale, "Satisfaction survey")[:24]),
        "submit": plain(t(locale, "Save")[:24]),
        "close": plain(t(locale, "Cancel")[:24]),
        "private_metadata": json.dumps(metadata, separators=(",", ":")),
        "blocks": [
            section(intro),
            {
                "type": "input",
                "block_id": ids.BLOCK_SURVEY_SCORE,
                "label": plain(t(locale, "How satisfied are you? (1–5)")),
                "element": score_select,
            },
            {
                "type": "input",
                "block_id": ids.BLOCK_SURVEY_RECOMMEND,
                "optional": True,
                "label": plain(t(locale, "How likely are you to recommend us to a colleague? (0–10)")),
                "element": recommend_select,
            },
            {
                "type": "input",
                "block_id": ids.BLOCK_SURVEY_COMMENT,
                "optional": True,
                "label": plain(t(locale, "Comment")),
                "element": comment,
            },
            {
                "type": "input",
                "block_id": ids.BLOCK_SURVEY_SIGN,
                "optional": True,
                "label": plain(t(locale, "Your name")),
                "hint": plain(
                    t(locale, "Left unticked, your answer is anonymous: nobody can see who gave it.")
                ),
                "element": sign,
            },
        ],
    }


@dataclass(frozen=True)
class DetailsForm:
    score: int | None
    recommend: int | None
    comment: str | None
    signed: bool


def _selected_int(state: dict[str, Any]) -> int | None:
    value = (state.get("selected_option") or {}).get("value")
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def parse_details(view: dict[str, Any]) -> DetailsForm:
    """The values of a submitted "Add details" form."""
    values = (view.get("state") or {}).get("values") or {}

    def element(block: str, action: str) -> dict[str, Any]:
        found = (values.get(block) or {}).get(action)
        return found if isinstance(found, dict) else {}

    comment = element(ids.BLOCK_SURVEY_COMMENT, ids.ACTION_SURVEY_COMMENT).get("value")
    ticked = element(ids.BLOCK_SURVEY_SIGN, ids.ACTION_SURVEY_SIGN).get("selected_options") or []
    return DetailsForm(
        score=_selected_int(element(ids.BLOCK_SURVEY_SCORE, ids.ACTION_SURVEY_SCORE_SELECT)),
        recommend=_selected_int(element(ids.BLOCK_SURVEY_RECOMMEND, ids.ACTION_SURVEY_RECOMMEND)),
        comment=comment if isinstance(comment, str) else None,
        signed=any(isinstance(o, dict) and o.get("value") == ids.SURVEY_SIGN_VALUE for o in ticked),
    )


# -- results ------------------------------------------------------------------------------------------


def results_message(results: SurveyResults, *, locale: str) -> tuple[str, list[Block]]:
    """The summary of a closed survey: rate, averages, and (from enough answers) distribution and comments."""
    most = max((count for _score, count in results.distribution), default=0)
    distribution = [
        SimpleNamespace(
            score=score,
            count=count,
            bar=("█" * round(count / most * BAR_WIDTH) if most and count else "") or "·",
        )
        for score, count in results.distribution
    ]
    summary = render(
        "survey_results.j2",
        locale,
        survey=SimpleNamespace(
            key=results.project_key,
            name=results.project_name,
            kind_label=t(locale, KIND_LABELS.get(results.kind, KIND_LABELS[KIND_ON_DEMAND])),
            asked=results.asked,
            answered=results.answered,
            rate=f"{round(results.rate * 100)}%",
            average=_number(results.average) if results.average is not None else None,
            recommend=_number(results.recommend_average) if results.recommend_average is not None else None,
            recommend_answers=results.recommend_answers,
            hidden=results.hidden,
            min_answers=MIN_ANSWERS_SHOWN,
            distribution=distribution,
            comments_count=len(results.comments),
        ),
    )
    blocks: list[Block] = [section(summary)]
    chunk = ""
    shown = 0
    for comment in results.comments:
        text = shorten(comment.text, MAX_COMMENT_SHOWN)
        line = render("survey_comment.j2", locale, text=text, user_id=comment.user_id)
        if chunk and len(chunk) + 2 + len(line) > MAX_SECTION_TEXT:
            if len(blocks) >= MAX_BLOCKS - 2:
                break
            blocks.append(section(chunk))
            chunk = ""
        chunk = f"{chunk}\n\n{line}" if chunk else line
        shown += 1
    if chunk:
        blocks.append(section(chunk))
    if shown < len(results.comments):
        blocks.append(
            context(
                t(locale, "%(count)s more comments are in the export.", count=len(results.comments) - shown)
            )
        )
    return summary[:MAX_FALLBACK_TEXT], blocks[:MAX_BLOCKS]


# -- notices ------------------------------------------------------------------------------------------


def started_text(
    *, key: str, name: str, kind: str, count: int, closes_at: datetime, timezone: str, locale: str
) -> str:
    """What the owner who started a survey (or the owners, for a pulse) are told."""
    closes_on: date = closes_at.astimezone(ZoneInfo(timezone)).date()
    return render(
        "survey_started.j2",
        locale,
        survey=SimpleNamespace(key=key, name=name, kind=kind, count=count, closes_on=closes_on),
    )
