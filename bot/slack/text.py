"""Slack text on the way in (decoded) and on the way out (escaped).

Slack sends slash-command text escaped (``&amp; &lt; &gt;``) with mentions and
links in angle brackets when ``should_escape`` is on. We store what the person
meant in plain words, and escape it again whenever it goes back to Slack, so a
stored ``<!channel>`` can never ping anybody.
"""

from __future__ import annotations

import re

_ANGLE = re.compile(r"<([^<>]*)>")
_USER_MENTION = re.compile(r"^@([UW][A-Z0-9]+)(?:\|([^<>]*))?$")
# Control characters other than tab and newline never belong in a record.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def unescape_entities(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape(text: str) -> str:
    """Escape user text for Slack ``mrkdwn`` and ``text`` fields (only ``& < >``, as Slack asks)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _decode_angle(inner: str) -> str:
    if inner.startswith("@"):
        match = _USER_MENTION.match(inner)
        if match:
            return "@" + (match.group(2) or match.group(1))
        return inner
    if inner.startswith("!"):
        # <!channel>, <!here>, <!subteam^S123|@team>, <!date^…|fallback>
        body, _, label = inner[1:].partition("|")
        if label:
            return label
        return "@" + body.split("^", 1)[0]
    if inner.startswith("#"):
        body, _, label = inner[1:].partition("|")
        return "#" + (label or body)
    url, _, label = inner.partition("|")
    if label and label != url:
        # A disguised link keeps its real target visible.
        return f"{label} ({url})"
    return url


def decode_slack_text(text: str) -> str:
    """Turn Slack's escaped wire format into the plain text a person typed."""
    decoded = _ANGLE.sub(lambda m: _decode_angle(m.group(1)), text)
    return clean(unescape_entities(decoded))


ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """Plain ``text`` in at most ``limit`` characters, cut after a word where possible and marked "…".

    Only for text not yet escaped: escaping afterwards keeps every ``&amp;`` whole.
    """
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space > len(cut) // 2:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def clean(text: str) -> str:
    return _CONTROL.sub("", text)


def mention(user_id: str) -> str:
    """A mention built by the bot itself (never from user text)."""
    return f"<@{user_id}>"


# A record's title made from a message (its first line) is at most this long.
TITLE_LIMIT = 200


def prefill(message_text: str, file_names: list[str]) -> tuple[str, str]:
    """Title (the first line) and full description of a message, in plain text."""
    text = decode_slack_text(message_text or "").strip()
    if file_names:
        text = (text + "\n\n" if text else "") + "\n".join(f"📎 {name}" for name in file_names)
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first_line) > TITLE_LIMIT:
        first_line = first_line[: TITLE_LIMIT - 1].rstrip() + "…"
    return first_line, text
