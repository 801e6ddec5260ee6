"""Options inside slash-command text: ``@user due:<date> !<priority> est:<hours> p:<1-5> i:<1-5>``.

Parsing is pure: it reads Slack's escaped wire text and returns plain values,
or raises :class:`UserError` naming the first bad option. Dates stay as text
here; the domain resolves them in the project's time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.domain.errors import N_, UserError
from bot.slack.text import decode_slack_text
from storage.models import Kind, Priority

_TOKEN = re.compile(r"<[^<>]*>|[^\s<]+|<")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>$")
_PRIORITY = re.compile(r"^!([A-Za-z]+)$")
_ESTIMATE = re.compile(r"^(\d+(?:\.\d+)?)\s*(h|hr|hrs|hours?|m|min|mins|d|days?)?$")
_KEY_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
_RECORD_KEY = re.compile(r"^([A-Z][A-Z0-9]{1,9})-(\d{1,9})$")
_DATE_QUALIFIERS = ("next", "this")

MAX_TITLE = 200
# A workday, for estimates given in days.
HOURS_PER_DAY = 8


@dataclass
class RecordOptions:
    title: str = ""
    assignee_id: str | None = None
    due_text: str | None = None
    priority: Priority | None = None
    estimate_hours: float | None = None
    probability: int | None = None
    impact: int | None = None
    extra_mentions: list[str] = field(default_factory=list)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def split_subcommand(text: str) -> tuple[str, str]:
    """``"new Printer jams"`` → ``("new", "Printer jams")``; the rest stays in wire format."""
    stripped = text.strip()
    if not stripped:
        return "", ""
    head, _, rest = stripped.partition(" ")
    return head.lower(), rest.strip()


def _score(value: str, option: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 5:
        raise UserError(
            N_("%(option)s must be a number from 1 to 5, not %(value)s."), option=option, value=value
        )
    return int(value)


def parse_estimate(value: str) -> float:
    match = _ESTIMATE.match(value.lower())
    if not match:
        raise UserError(
            N_("I can't read est:%(value)s as hours. Try est:4h, est:30m or est:2d."), value=value
        )
    amount = float(match.group(1))
    unit = (match.group(2) or "h")[0]
    hours = amount / 60 if unit == "m" else amount * HOURS_PER_DAY if unit == "d" else amount
    if hours <= 0 or hours > 10_000:
        raise UserError(N_("An estimate must be more than 0 and at most 10,000 hours."), field="estimate")
    return round(hours, 2)


def parse_record_options(text: str, kind: Kind) -> RecordOptions:
    """Split the title from its options. ``text`` is the escaped text Slack sent."""
    opts = RecordOptions()
    words: list[str] = []
    parts = tokens(text)
    i = 0
    while i < len(parts):
        token = parts[i]
        lower = token.lower()
        mention = _MENTION.match(token)
        priority = _PRIORITY.match(token)
        if mention:
            if opts.assignee_id and opts.assignee_id != mention.group(1):
                raise UserError(N_("Only one person can be assigned: mention just one @person."))
            opts.assignee_id = mention.group(1)
        elif lower.startswith("due:"):
            value = decode_slack_text(token[4:])
            if value.lower() in _DATE_QUALIFIERS and i + 1 < len(parts):
                i += 1
                value = f"{value} {decode_slack_text(parts[i])}"
            if not value:
                raise UserError(N_("due: needs a date, such as due:2026-12-01 or due:friday."))
            opts.due_text = value
        elif priority:
            try:
                opts.priority = Priority(priority.group(1).lower())
            except ValueError:
                raise UserError(
                    N_("%(value)s is not a priority. Use !low, !medium, !high or !critical."),
                    value=token,
                    field="priority",
                ) from None
        elif lower.startswith("est:") and kind is Kind.TASK:
            opts.estimate_hours = parse_estimate(token[4:])
        elif lower.startswith("p:") and kind is Kind.RISK:
            opts.probability = _score(token[2:], "p:")
        elif lower.startswith("i:") and kind is Kind.RISK:
            opts.impact = _score(token[2:], "i:")
        elif token.startswith("@") and len(token) > 1:
            raise UserError(
                N_("I don't know who %(who)s is. Pick the person from Slack's @ suggestions."),
                who=decode_slack_text(token),
            )
        else:
            words.append(decode_slack_text(token))
        i += 1
    opts.title = " ".join(w for w in words if w).strip()
    return opts


def check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise UserError(N_("A title is needed."), field="title")
    if len(title) > MAX_TITLE:
        raise UserError(
            N_(
                "The title is %(length)s characters long; the limit is %(limit)s. Put the rest in the description."
            ),
            length=len(title),
            limit=MAX_TITLE,
            field="title",
        )
    return title


def parse_project_key(value: str) -> str:
    key = value.strip()
    if not _KEY_PATTERN.match(key):
        raise UserError(
            N_(
                "%(key)s can't be a project key: use 2 to 10 capital letters or digits, starting with a letter (like ACME)."
            ),
            key=decode_slack_text(key) or "''",
        )
    return key


def parse_record_key(value: str) -> tuple[str, int]:
    match = _RECORD_KEY.match(value.strip().upper())
    if not match:
        raise UserError(
            N_("%(key)s is not a record key (like ACME-12)."), key=decode_slack_text(value) or "''"
        )
    return match.group(1), int(match.group(2))
