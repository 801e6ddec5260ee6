"""Slack text and Block Kit drawn for the demo's transcript: plain text for the terminal, safe HTML for the page.

Block Kit is drawn roughly as Slack draws it: headers, sections (with fields and an accessory),
context lines, actions as pill-shaped buttons, dividers, a modal's inputs; mrkdwn bold, italic,
strike and code; mentions as @Name. Every piece of user text is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Names = dict[str, str]

_ENTITY = re.compile(r"<([^<>]*)>")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])")
_CODE = re.compile(r"`([^`\n]+)`")


@dataclass
class Shown:
    """One thing that appeared on one surface."""

    surface: tuple[str, str]  # ("channel", id) | ("dm", user) | ("home", user) | ("modal", user)
    kind: str  # message, reply, update, ephemeral, modal, home, file, human
    at: datetime
    author: str  # display name of who posted it
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    title: str = ""  # a modal's title or a file's name
    only_for: str | None = None  # ephemeral: only visible to this person
    narration: str = ""  # what caused it


# -- mrkdwn --------------------------------------------------------------------------------------


_EMOJI = {
    "mag": "🔍",
    "alarm_clock": "⏰",
    "bar_chart": "📊",
    "warning": "⚠️",
    "clipboard": "📋",
    "white_check_mark": "✅",
    "rotating_light": "🚨",
    "zzz": "💤",
    "lock": "🔒",
    "unlock": "🔓",
    "checkered_flag": "🏁",
    "memo": "📝",
    "calendar": "📅",
    "date": "📅",
    "bell": "🔔",
    "tada": "🎉",
    "x": "❌",
    "heavy_check_mark": "✔️",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "pushpin": "📌",
    "link": "🔗",
    "page_facing_up": "📄",
    "spiral_note_pad": "🗒️",
    "busts_in_silhouette": "👥",
    "bust_in_silhouette": "👤",
    "speech_balloon": "💬",
    "fire": "🔥",
    "red_circle": "🔴",
    "large_orange_circle": "🟠",
    "large_yellow_circle": "🟡",
    "large_green_circle": "🟢",
    "white_circle": "⚪",
    "arrow_right": "➡️",
    "new": "🆕",
    "wave": "👋",
    "star": "⭐",
    "chart_with_upwards_trend": "📈",
    "inbox_tray": "📥",
    "outbox_tray": "📤",
    "wrench": "🔧",
    "bulb": "💡",
    "construction": "🚧",
    "hammer_and_wrench": "🛠️",
    "ok_hand": "👌",
    "eyes": "👀",
    "repeat": "🔁",
    "information_source": "ℹ️",
    "card_index": "📇",
    "file_folder": "📁",
    "stopwatch": "⏱️",
    "ticket": "🎫",
}
_SHORTCODE = re.compile(r":([a-z0-9_+-]+):")


def _unescape(text: str) -> str:
    text = _SHORTCODE.sub(lambda m: _EMOJI.get(m.group(1), m.group(0)), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _entity(inner: str, names: Names) -> tuple[str, str | None]:
    """A Slack ``<…>`` entity as (label, link)."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + names.get(target[1:], label or target[1:]), None
    if target.startswith("#"):
        return "#" + names.get(target[1:], label or target[1:]), None
    if target.startswith("!"):
        special = target[1:].split("^")[0]
        return "@" + (label or special), None
    return (_unescape(label) if label else _unescape(target)), _unescape(target)


def mrkdwn_text(text: str, names: Names, *, mrkdwn: bool = True) -> str:
    """Plain text for the terminal: entities resolved (links by their label), formatting marks dropped."""
    labels: list[str] = []

    def keep(match: re.Match[str]) -> str:
        labels.append(_entity(match.group(1), names)[0])
        return f"\x00{len(labels) - 1}\x00"

    plain = _plain(_unescape(_ENTITY.sub(keep, text)), mrkdwn)
    return re.sub("\x00(\\d+)\x00", lambda m: labels[int(m.group(1))], plain)


def _plain(text: str, mrkdwn: bool) -> str:
    if not mrkdwn:
        return text
    text = _BOLD.sub(r"\1", text)
    text = _STRIKE.sub(r"\1", text)
    return _ITALIC.sub(r"\1", text)


def mrkdwn_html(text: str, names: Names, *, mrkdwn: bool = True) -> str:
    """Safe HTML for Slack text: entities as mentions or links, mrkdwn as tags, everything escaped."""
    pieces: list[str] = []

    def keep(match: re.Match[str]) -> str:
        label, link = _entity(match.group(1), names)
        if link and link.startswith(("http://", "https://", "mailto:")):
            pieces.append(f'<a href="{html.escape(link, quote=True)}">{html.escape(label)}</a>')
        elif link:
            pieces.append(html.escape(label))
        else:
            pieces.append(f'<span class="mention">{html.escape(label)}</span>')
        return f"\x01{len(pieces) - 1}\x01"

    # Entities become placeholders first, so *<link|ACME-1>* is bold and nothing in them is formatted.
    formatted = _format(_ENTITY.sub(keep, text), mrkdwn)
    formatted = re.sub("\x01(\\d+)\x01", lambda m: pieces[int(m.group(1))], formatted)
    return formatted.replace("\n", "<br>")


def _format(raw: str, mrkdwn: bool) -> str:
    text = html.escape(_unescape(raw), quote=False)
    if not mrkdwn:
        return text
    codes: list[str] = []

    def keep(match: re.Match[str]) -> str:
        codes.append(f"<code>{match.group(1)}</code>")
        return f"\x00{len(codes) - 1}\x00"

    text = _CODE.sub(keep, text)
    text = _BOLD.sub(r"<b>\1</b>", text)
    text = _ITALIC.sub(r"<i>\1</i>", text)
    text = _STRIKE.sub(r"<s>\1</s>", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: codes[int(m.group(1))], text)


def _text_obj(obj: Any) -> tuple[str, bool]:
    if isinstance(obj, dict):
        return str(obj.get("text", "")), obj.get("type") == "mrkdwn"
    return (str(obj), True) if obj else ("", True)


# -- Block Kit: terminal ------------------------------------------------------------------------


def _element_label(element: dict[str, Any], names: Names) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[ {mrkdwn_text(_text_obj(element.get('text'))[0], names, mrkdwn=False)} ]"
    if kind == "overflow":
        return "[ ⋯ ]"
    if kind in ("datepicker",):
        return f"[ 📅 {element.get('initial_date') or '…'} ]"
    if kind in ("users_select", "multi_users_select"):
        chosen = element.get("initial_users") or (
            [element["initial_user"]] if element.get("initial_user") else []
        )
        return "[ " + (", ".join("@" + names.get(u, u) for u in chosen) or "…") + " ▾ ]"
    if kind in ("static_select", "conversations_select", "channels_select", "external_select"):
        initial = element.get("initial_option") or {}
        shown = _text_obj(initial.get("text"))[0] or element.get("initial_conversation") or ""
        if not shown:
            shown = _text_obj(element.get("placeholder"))[0] or "…"
        return f"[ {mrkdwn_text(names.get(shown, shown), names, mrkdwn=False)} ▾ ]"
    if kind == "timepicker":
        return f"[ 🕘 {element.get('initial_time') or '…'} ]"
    if kind == "plain_text_input" or str(kind).endswith("_input"):
        value = str(element.get("initial_value") or "")
        return "[ " + (value.replace("\n", " ")[:60] or "…") + " ]"
    if kind == "checkboxes":
        return " ".join(
            _tick(element, o) + " " + _text_obj(o.get("text"))[0] for o in element.get("options") or []
        )
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    text, is_md = _text_obj(element)
    return mrkdwn_text(text, names, mrkdwn=is_md)


_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _colon(label: str) -> str:
    """The colon after a label: full-width after Chinese, as Chinese text writes it."""
    return "：" if label and _CJK.match(label[-1]) else ": "


def _tick(element: dict[str, Any], option: dict[str, Any]) -> str:
    """☑ for an option the checkboxes start ticked with (``initial_options``), ☐ otherwise."""
    ticked = {o.get("value") for o in element.get("initial_options") or []}
    return "☑" if option.get("value") in ticked else "☐"


def _is_field(kind: str) -> bool:
    """An input drawn as a box holding its initial value (selects, pickers, text and number inputs)."""
    return kind.endswith(("_select", "_input")) or kind in ("datepicker", "timepicker", "datetimepicker")


def _rich_text(block: dict[str, Any]) -> str:
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                parts.append(str(node.get("text", "")))
            elif node.get("type") == "user":
                parts.append("@" + str(node.get("user_id", "")))
            elif node.get("type") == "link":
                parts.append(str(node.get("text") or node.get("url", "")))
            for child in node.get("elements") or []:
                walk(child)

    walk(block)
    return "".join(parts)


def blocks_text(blocks: list[dict[str, Any]], names: Names) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append("▌ " + mrkdwn_text(_text_obj(block.get("text"))[0], names, mrkdwn=False))
        elif kind == "section":
            text, is_md = _text_obj(block.get("text"))
            if text:
                lines += mrkdwn_text(text, names, mrkdwn=is_md).splitlines()
            for item in block.get("fields") or []:
                value, md = _text_obj(item)
                lines += ["  " + line for line in mrkdwn_text(value, names, mrkdwn=md).splitlines()]
            if block.get("accessory"):
                lines.append("    " + _element_label(block["accessory"], names))
        elif kind == "context":
            joined = " · ".join(_element_label(e, names) for e in block.get("elements") or [])
            lines += ["  " + line for line in joined.splitlines()]
        elif kind == "actions":
            lines.append(" ".join(_element_label(e, names) for e in block.get("elements") or []))
        elif kind == "divider":
            lines.append("─" * 40)
        elif kind == "input":
            label = _text_obj(block.get("label"))[0]
            lines.append(f"{label}{_colon(label)}{_element_label(block.get('element') or {}, names)}")
        elif kind == "rich_text":
            lines += _rich_text(block).splitlines()
        elif kind == "image":
            lines.append(f"[image: {block.get('alt_text', '')}]")
    return lines


# -- Block Kit: HTML ----------------------------------------------------------------------------


def _element_html(element: dict[str, Any], names: Names) -> str:
    kind = element.get("type")
    if kind == "button":
        style = element.get("style")
        css = "btn" + (f" btn-{style}" if style in ("primary", "danger") else "")
        label = html.escape(_text_obj(element.get("text"))[0])
        return f'<span class="{css}">{label}</span>'
    if kind == "overflow":
        return '<span class="btn">⋯</span>'
    if kind == "checkboxes":
        return "".join(
            f'<label class="check">{_tick(element, o)} {html.escape(_text_obj(o.get("text"))[0])}</label>'
            for o in element.get("options") or []
        )
    if _is_field(str(kind)):
        label = _element_label(element, names).strip("[] ")
        return f'<span class="field">{html.escape(label)}</span>'
    if kind == "image":
        return f'<span class="img">[{html.escape(str(element.get("alt_text", "image")))}]</span>'
    text, is_md = _text_obj(element)
    return f"<span>{mrkdwn_html(text, names, mrkdwn=is_md)}</span>"


def _image_html(block: dict[str, Any], images: Mapping[str, bytes]) -> str:
    """An image block: the picture itself when the stand-in received its bytes (a data: URI), else its alt text."""
    alt = html.escape(str(block.get("alt_text", "image")))
    data = images.get(str((block.get("slack_file") or {}).get("id")))
    if not data:
        return f'<div class="img">[{alt}]</div>'
    source = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return f'<div class="img"><img src="{source}" alt="{alt}" style="max-width:100%"></div>'


def blocks_html(blocks: list[dict[str, Any]], names: Names, images: Mapping[str, bytes] | None = None) -> str:
    out: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            out.append(f'<div class="b-header">{html.escape(_text_obj(block.get("text"))[0])}</div>')
        elif kind == "section":
            text, is_md = _text_obj(block.get("text"))
            inner = f'<div class="b-text">{mrkdwn_html(text, names, mrkdwn=is_md)}</div>' if text else ""
            if block.get("fields"):
                fields = "".join(
                    f"<div>{mrkdwn_html(_pair(item)[0], names, mrkdwn=_pair(item)[1])}</div>"
                    for item in block["fields"]
                )
                inner += f'<div class="b-fields">{fields}</div>'
            if block.get("accessory"):
                inner += f'<div class="b-accessory">{_element_html(block["accessory"], names)}</div>'
            out.append(f'<div class="b-section">{inner}</div>')
        elif kind == "context":
            items = " ".join(_element_html(e, names) for e in block.get("elements") or [])
            out.append(f'<div class="b-context">{items}</div>')
        elif kind == "actions":
            items = " ".join(_element_html(e, names) for e in block.get("elements") or [])
            out.append(f'<div class="b-actions">{items}</div>')
        elif kind == "divider":
            out.append("<hr>")
        elif kind == "input":
            label = html.escape(_text_obj(block.get("label"))[0])
            element = _element_html(block.get("element") or {}, names)
            out.append(f'<div class="b-input"><div class="label">{label}</div>{element}</div>')
        elif kind == "rich_text":
            out.append(f'<div class="b-text">{html.escape(_rich_text(block))}</div>')
        elif kind == "image":
            out.append(_image_html(block, images or {}))
    return "".join(out)


def _pair(item: Any) -> tuple[str, bool]:
    text, is_md = _text_obj(item)
    return text, is_md
