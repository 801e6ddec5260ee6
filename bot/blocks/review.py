"""The risk review as Slack messages: one line per risk with its buttons. Pure, no I/O.

Block ids carry what a redraw needs, so a click can rebuild exactly the message it came from, from
current data: the header ``review_head:`` followed by its part and total as JSON
(``{"part":1,"total":2}``), each risk ``review_risk:<key>`` (the whole rest is the key) and its
buttons ``review_actions:<key>``. Nothing is split back apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.basics import Block, _button, context, plain, section
from bot.blocks.rendering import render
from bot.domain.errors import N_
from bot.domain.risk_review import ReviewRisk, RiskReview
from bot.domain.statuses import LIFECYCLES, Verb
from bot.i18n import t
from bot.i18n.labels import status_name
from bot.slack import ids, limits
from storage.models import Kind

# Each risk takes two blocks; with the header this stays well under Slack's 50 blocks.
RISKS_PER_MESSAGE = 20
MAX_TITLE = 150

Part = tuple[str, list[Block]]
# Block id prefixes: the header's is followed by JSON, a risk's by its key.
_HEAD = f"{ids.BLOCK_REVIEW_HEAD}:"
_RISK = f"{ids.BLOCK_REVIEW_RISK}:"
_LEGACY_HEAD = re.compile(r"([0-9]{1,4}):([0-9]{1,4})")

ADJUSTMENTS = (
    ("probability", 1, N_("Raise probability (%(old)s → %(new)s)")),
    ("probability", -1, N_("Lower probability (%(old)s → %(new)s)")),
    ("impact", 1, N_("Raise impact (%(old)s → %(new)s)")),
    ("impact", -1, N_("Lower impact (%(old)s → %(new)s)")),
)
FIELD_CODES = {"probability": "p", "impact": "i"}


def _short(text: str, limit: int = MAX_TITLE) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _risk_text(review: RiskReview, risk: ReviewRisk, locale: str) -> str:
    zone = ZoneInfo(review.project.timezone)
    reviewed = risk.last_reviewed_at.astimezone(zone).date() if risk.last_reviewed_at else None
    return render(
        "review_risk.j2",
        locale,
        review={
            "risk": {
                "key": risk.key,
                "title": _short(risk.title),
                "open": risk.is_open,
                "flagged": risk.flagged,
                "score": risk.score,
                "probability": risk.probability,
                "impact": risk.impact,
                "status_label": t(locale, "deleted") if risk.deleted else status_name(risk.status, locale),
                "owner_id": risk.owner_id,
                "owner_name": review.names.get(risk.owner_id or ""),
                "last_reviewed": reviewed,
            }
        },
    )


def _adjust_menu(risk: ReviewRisk, locale: str) -> dict[str, Any] | None:
    """The ⋯ menu of the moves that stay within 1–5; a single move is a plain button instead.

    Slack refuses an overflow menu of fewer than two options (and with it the whole message):
    https://docs.slack.dev/reference/block-kit/block-elements/overflow-menu-element
    """
    moves: list[tuple[str, dict[str, Any]]] = []
    for field, delta, label in ADJUSTMENTS:
        old = getattr(risk, field)
        if old is None or not 1 <= old + delta <= 5:
            continue
        value = {"key": risk.key, "v": risk.version, "f": FIELD_CODES[field], "d": delta}
        moves.append((t(locale, label, old=old, new=old + delta)[: limits.OPTION_TEXT], value))
    if len(moves) == 1:
        ((text, value),) = moves
        return _button(text, ids.ACTION_REVIEW_ADJUST, value)
    if not moves:
        return None
    options = [
        {"text": plain(text), "value": json.dumps(value, separators=(",", ":"))} for text, value in moves
    ]
    return {"type": "overflow", "action_id": ids.ACTION_REVIEW_ADJUST, "options": options}


def risk_actions(risk: ReviewRisk, locale: str) -> Block | None:
    """Still valid · raise/lower p or i · Mitigating · Close — for an open risk; nothing once it is closed."""
    if not risk.is_open:
        return None
    ref = {"key": risk.key, "v": risk.version}
    elements: list[dict[str, Any]] = [
        _button(t(locale, "Still valid"), ids.ACTION_REVIEW_STILL_VALID, ref, "primary")
    ]
    menu = _adjust_menu(risk, locale)
    if menu:
        elements.append(menu)
    moves = LIFECYCLES[Kind.RISK].moves_from(risk.status)
    if Verb.MITIGATE in moves:
        elements.append(_button(t(locale, "Mitigating"), ids.ACTION_REVIEW_MITIGATING, ref))
    close = _button(t(locale, "Close"), ids.ACTION_REVIEW_CLOSE, ref, "danger")
    close["confirm"] = {
        "title": plain(t(locale, "Close %(key)s?", key=risk.key)[:100]),
        "text": plain(t(locale, "It leaves the list of open risks. If it comes back, log it again.")),
        "confirm": plain(t(locale, "Close")),
        "deny": plain(t(locale, "Cancel")),
    }
    elements.append(close)
    return {"type": "actions", "block_id": f"{ids.BLOCK_REVIEW_ACTIONS}:{risk.key}", "elements": elements}


def _intro(review: RiskReview, locale: str, *, part: int, total: int) -> tuple[str, Block]:
    if part == 1:
        text = render(
            "review_intro.j2",
            locale,
            review={
                "key": review.project.key,
                "name": review.project.name,
                "open_count": review.open_count,
                "flagged_count": len(review.flagged),
                "stale_days": review.stale_days,
                "owners": list(review.owners_to_mention),
                "unowned": review.unowned_flagged,
            },
        )
        if total > 1:
            text += "\n" + _part_label(review, part, total, locale)
        block = section(text)
    else:
        text = _part_label(review, part, total, locale)
        block = context(text)
    block["block_id"] = _HEAD + json.dumps({"part": part, "total": total}, separators=(",", ":"))
    return text, block


def _part_label(review: RiskReview, part: int, total: int, locale: str) -> str:
    return t(
        locale,
        "Risk review %(key)s · part %(part)s of %(total)s",
        key=review.project.key,
        part=part,
        total=total,
    )


def review_message(review: RiskReview, risks: Sequence[ReviewRisk], *, part: int = 1, total: int = 1) -> Part:
    """One review message listing ``risks`` (a part of the review when ``total`` > 1)."""
    locale = review.project.locale
    text, head = _intro(review, locale, part=part, total=total)
    texts = [text]
    blocks: list[Block] = [head]
    for risk in risks:
        line = _risk_text(review, risk, locale)
        texts.append(line)
        block = section(line)
        block["block_id"] = _RISK + risk.key
        blocks.append(block)
        actions = risk_actions(risk, locale)
        if actions:
            blocks.append(actions)
    if part == 1:
        hint = t(
            locale,
            "Still valid confirms a risk as it stands; the ⋯ menu raises or lowers its probability or impact.",
        )
        texts.append(hint)
        blocks.append(context(hint))
    return "\n\n".join(texts), blocks


def _groups(review: RiskReview) -> list[list[ReviewRisk]]:
    risks = list(review.risks)
    return [risks[n : n + RISKS_PER_MESSAGE] for n in range(0, len(risks), RISKS_PER_MESSAGE)] or [[]]


def review_parts(review: RiskReview) -> list[Part]:
    """The whole review: open risks by score, :data:`RISKS_PER_MESSAGE` per message."""
    groups = _groups(review)
    return [
        review_message(review, group, part=number, total=len(groups))
        for number, group in enumerate(groups, start=1)
    ]


def part_with(review: RiskReview, key: str) -> Part:
    """The message of ``review`` that lists ``key`` (the first one when none does)."""
    groups = _groups(review)
    part = next((n for n, group in enumerate(groups, start=1) if any(r.key == key for r in group)), 1)
    return review_message(review, groups[part - 1], part=part, total=len(groups))


def _part_and_total(text: str, part: int, total: int) -> tuple[int, int]:
    """The header's part and total (its block id's JSON), or the ones given when it is not that.

    A review posted before the JSON header said ``<part>:<total>``; its buttons keep working.
    """
    legacy = _LEGACY_HEAD.fullmatch(text)
    if legacy:
        return int(legacy[1]), int(legacy[2])
    try:
        value = json.loads(text)
    except ValueError:
        return part, total
    found_part = value.get("part") if isinstance(value, dict) else None
    found_total = value.get("total") if isinstance(value, dict) else None
    if type(found_part) is int and type(found_total) is int and 0 < found_part <= found_total:
        return found_part, found_total
    return part, total


def message_layout(blocks: Sequence[dict[str, Any]] | None) -> tuple[list[str], int, int] | None:
    """Read back which risks a review message lists (and which part it is), from its block ids."""
    if not blocks:
        return None
    keys: list[str] = []
    part, total = 1, 1
    for block in blocks:
        block_id = str(block.get("block_id") or "")
        if block_id.startswith(_RISK) and len(block_id) > len(_RISK):
            keys.append(block_id[len(_RISK) :])
        elif block_id.startswith(_HEAD):
            part, total = _part_and_total(block_id[len(_HEAD) :], part, total)
    return (keys, part, total) if keys else None
