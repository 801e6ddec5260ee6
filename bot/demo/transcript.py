"""What each person saw: a terminal transcript in story order, and an HTML page grouped by surface.

Block Kit is drawn roughly as Slack draws it: headers, sections (with fields and an accessory),
context lines, actions as pill-shaped buttons, dividers, a modal's inputs; mrkdwn bold, italic,
strike and code; mentions as @Name. Every piece of user text is HTML-escaped.
"""

from __future__ import annotations

import base64
import difflib
import html
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.simulator import Call

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


# -- from Slack calls to what was shown ---------------------------------------------------------


def _loaded(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _user_of_channel(channel: str) -> str | None:
    if channel.startswith("D_"):
        return channel[2:]
    if channel.startswith(("U", "W")):
        return channel
    return None


def shown_by(
    call: Call,
    *,
    at: datetime,
    actor: str | None,
    narration: str,
    names: Names,
    response_to: Callable[[str], tuple[str, str] | None],
    bot_name: str = "Aftercare",
) -> Shown | None:
    args = call.args
    method = call.method
    common: dict[str, Any] = {"at": at, "narration": narration, "author": bot_name}

    def surface(channel: str) -> tuple[str, str]:
        user = _user_of_channel(channel)
        return ("dm", user) if user else ("channel", channel)

    if method == "human.message":
        return Shown(
            surface=surface(str(args["channel"])),
            kind="human",
            text=str(args.get("text", "")),
            **{**common, "author": names.get(str(args["user"]), str(args["user"]))},
        )
    if method == "chat.postMessage":
        return Shown(
            surface=surface(str(args.get("channel", ""))),
            kind="reply" if args.get("thread_ts") else "message",
            text=str(args.get("text") or ""),
            blocks=_loaded(args.get("blocks")) or [],
            **common,
        )
    if method == "chat.update":
        return Shown(
            surface=surface(str(args.get("channel", ""))),
            kind="update",
            text=str(args.get("text") or ""),
            blocks=_loaded(args.get("blocks")) or [],
            **common,
        )
    if method == "chat.postEphemeral":
        user = str(args.get("user", ""))
        return Shown(
            surface=surface(str(args.get("channel", ""))),
            kind="ephemeral",
            only_for=user,
            text=str(args.get("text") or ""),
            blocks=_loaded(args.get("blocks")) or [],
            **common,
        )
    if method == "response_url":
        target = response_to(str(args.get("_path", "")).rsplit("/", 1)[-1])
        if target is None or args.get("delete_original"):
            return None
        user, channel = target
        replaces = args.get("replace_original") and args.get("response_type") != "in_channel"
        public = args.get("response_type") == "in_channel"
        return Shown(
            surface=surface(channel),
            kind="message" if public else ("update" if replaces else "ephemeral"),
            only_for=None if public or replaces else user,
            text=str(args.get("text") or ""),
            blocks=_loaded(args.get("blocks")) or [],
            **common,
        )
    if method in ("views.open", "views.push", "views.update") and actor:
        view = _loaded(args.get("view")) or {}
        return Shown(
            surface=("modal", actor),
            kind="modal",
            title=_text_obj(view.get("title"))[0],
            blocks=view.get("blocks") or [],
            **common,
        )
    if method == "views.publish":
        view = _loaded(args.get("view")) or {}
        return Shown(
            surface=("home", str(args.get("user_id", ""))),
            kind="home",
            blocks=view.get("blocks") or [],
            **common,
        )
    if method == "files.completeUploadExternal" and args.get("channel_id"):
        files = _loaded(args.get("files")) or []
        title = ", ".join(str(f.get("title") or f.get("id")) for f in files if isinstance(f, dict))
        return Shown(
            surface=surface(str(args["channel_id"])),
            kind="file",
            title=title,
            text=str(args.get("initial_comment") or ""),
            **common,
        )
    return None


def surface_label(surface: tuple[str, str], names: Names, locale: str) -> str:
    kind, who = surface
    name = names.get(who, who)
    zh = locale == "zh-CN"
    if kind == "channel":
        return f"#{name}"
    if kind == "dm":
        return f"私信 · {name}" if zh else f"DM · {name}"
    if kind == "home":
        return f"App Home · {name}"
    return f"弹窗 · {name}" if zh else f"Modal · {name}"


# -- the terminal transcript --------------------------------------------------------------------

_KIND_EN = {
    "reply": "in thread",
    "update": "message updated",
    "ephemeral": "only visible to {who}",
    "modal": "modal “{title}”",
    "home": "App Home redrawn",
    "file": "file shared: {title}",
}
_KIND_ZH = {
    "reply": "在话题中",
    "update": "消息已更新",
    "ephemeral": "仅 {who} 可见",
    "modal": "弹窗“{title}”",
    "home": "App Home 已刷新",
    "file": "共享文件：{title}",
}


def _note(item: Shown, names: Names, locale: str) -> str:
    table = _KIND_ZH if locale == "zh-CN" else _KIND_EN
    template = table.get(item.kind)
    if not template:
        return ""
    return template.format(who=names.get(item.only_for or "", item.only_for or ""), title=item.title)


def _body(item: Shown, names: Names) -> list[str]:
    body = blocks_text(item.blocks, names) if item.blocks else []
    if not body and item.text:
        body = mrkdwn_text(item.text, names).splitlines()
    return body


def home_changes(before: list[str], after: list[str]) -> list[str]:
    """The lines of an App Home that changed since it was last shown: ``+`` added, ``−`` gone."""
    changed: list[str] = []
    for line in difflib.ndiff(before, after):
        if line.startswith("+ ") and line[2:].strip():
            changed.append("+ " + line[2:])
        elif line.startswith("- ") and line[2:].strip():
            changed.append("− " + line[2:])
    return changed


def terminal_lines(
    story: list[tuple[datetime, str, list[Shown]]], names: Names, locale: str, when: Callable[[datetime], str]
) -> list[str]:
    """The story in order: who did what, then what appeared where.

    An App Home is shown whole the first time it appears, then only by what changed in it
    (nothing when a redraw changed nothing): a person's Home is redrawn after most steps.
    """
    zh = locale == "zh-CN"
    lines: list[str] = []
    homes: dict[tuple[str, str], list[str]] = {}
    for at, headline, items in story:
        if headline:
            lines.append("")
            lines.append(f"── {when(at)} · {headline}")
        for item in items:
            label = surface_label(item.surface, names, locale)
            note = _note(item, names, locale)
            body = _body(item, names)
            if item.kind == "home":
                before = homes.get(item.surface)
                homes[item.surface] = body
                if before is not None:
                    body = home_changes(before, body)
                    if not body:
                        continue
                    note = "App Home 的变化" if zh else "what changed on App Home"
            if note:
                label += f"（{note}）" if zh else f" ({note})"
            lines.append(f"   ┌ {label} — {item.author}")
            for line in body[:40]:
                lines.append(f"   │ {line}")
            if len(body) > 40:
                more = len(body) - 40
                lines.append(f"   │ …（另有 {more} 行）" if zh else f"   │ … ({more} more lines)")
            lines.append("   └")
    return lines


def homes_once_a_day(items: list[Shown]) -> list[Shown]:
    """For the HTML page: each person's App Home as it stood at the end of each day it changed."""
    last: dict[tuple[tuple[str, str], object], int] = {}
    for n, item in enumerate(items):
        if item.kind == "home":
            last[(item.surface, item.at.date())] = n
    kept: list[Shown] = []
    shown: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for n, item in enumerate(items):
        if item.kind == "home":
            if last[(item.surface, item.at.date())] != n or shown.get(item.surface) == item.blocks:
                continue
            shown[item.surface] = item.blocks
        kept.append(item)
    return kept


# -- the HTML transcript ------------------------------------------------------------------------

_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue","PingFang SC","Microsoft YaHei",sans-serif;
 background:#f4ede4;margin:0;color:#1d1c1d}
header.top{background:#3f0e40;color:#fff;padding:16px 24px}
header.top h1{margin:0;font-size:20px} header.top p{margin:4px 0 0;opacity:.8}
nav{padding:8px 24px;background:#fff;border-bottom:1px solid #ddd}
nav a{margin-right:12px;color:#1264a3;text-decoration:none;font-size:14px}
main{max-width:900px;margin:0 auto;padding:16px}
section.surface{background:#fff;border-radius:8px;margin:16px 0;box-shadow:0 1px 3px rgba(0,0,0,.15)}
section.surface h2{margin:0;padding:10px 16px;border-bottom:1px solid #e8e8e8;font-size:16px}
.msg{display:flex;gap:10px;padding:10px 16px;border-bottom:1px solid #f2f2f2}
.avatar{width:36px;height:36px;border-radius:6px;background:#4a154b;color:#fff;font-weight:700;
 display:flex;align-items:center;justify-content:center;flex:none}
.avatar.human{background:#2eb67d}
.meta{font-size:13px;color:#616061} .meta b{color:#1d1c1d;font-size:15px}
.cause{font-size:12px;color:#868686;font-style:italic}
.note{font-size:12px;color:#616061;background:#f8f8f8;border-radius:4px;padding:1px 6px}
.b-header{font-weight:700;font-size:17px;margin:6px 0}
.b-section{display:flex;justify-content:space-between;gap:8px;margin:4px 0}
.b-fields{display:grid;grid-template-columns:1fr 1fr;gap:4px 16px;margin-top:4px}
.b-context{font-size:12px;color:#616061;margin:4px 0}
.b-actions{margin:6px 0;display:flex;flex-wrap:wrap;gap:6px}
.b-input{margin:6px 0} .b-input .label{font-weight:700;font-size:14px}
.btn{display:inline-block;border:1px solid #bbb;border-radius:999px;padding:2px 12px;font-size:13px;
 font-weight:600;background:#fff}
.btn-primary{background:#007a5a;color:#fff;border-color:#007a5a}
.btn-danger{color:#e01e5a;border-color:#e01e5a}
.field{display:inline-block;border:1px solid #ccc;border-radius:4px;padding:2px 8px;min-width:120px;
 font-size:13px;color:#444}
.mention{background:#e8f5fa;color:#1264a3;border-radius:3px;padding:0 2px}
code{background:#f6f6f6;border:1px solid #ddd;border-radius:3px;padding:0 3px;color:#e01e5a}
hr{border:none;border-top:1px solid #e8e8e8}
.modal{border:1px solid #ccc;border-radius:8px;padding:8px 12px;background:#fcfcfc}
.modal .title{font-weight:700}
.file{border:1px solid #ddd;border-radius:6px;padding:6px 10px;display:inline-block;background:#fafafa}
"""


def _surface_order(surface: tuple[str, str]) -> tuple[int, str]:
    return ({"channel": 0, "dm": 1, "home": 2, "modal": 3}.get(surface[0], 9), surface[1])


def render_html(
    items: list[Shown],
    names: Names,
    *,
    title: str,
    subtitle: str,
    locale: str,
    when: Callable[[datetime], str],
    images: Mapping[str, bytes] | None = None,
) -> str:
    """The transcript as one HTML page; ``images``: file id → the bytes uploaded (charts are shown inline)."""
    surfaces: dict[tuple[str, str], list[Shown]] = {}
    for item in homes_once_a_day(items):
        surfaces.setdefault(item.surface, []).append(item)
    ordered = sorted(surfaces, key=_surface_order)
    anchors = {s: f"s{n}" for n, s in enumerate(ordered)}
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{html.escape(locale)}"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f'<header class="top"><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>',
        "<nav>"
        + "".join(
            f'<a href="#{anchors[s]}">{html.escape(surface_label(s, names, locale))}</a>' for s in ordered
        )
        + "</nav><main>",
    ]
    for surface in ordered:
        parts.append(f'<section class="surface" id="{anchors[surface]}">')
        parts.append(f"<h2>{html.escape(surface_label(surface, names, locale))}</h2>")
        for item in surfaces[surface]:
            parts.append(_item_html(item, names, locale, when, images or {}))
        parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def _item_html(
    item: Shown, names: Names, locale: str, when: Callable[[datetime], str], images: Mapping[str, bytes]
) -> str:
    human = item.kind == "human"
    initial = html.escape((item.author or "?")[:1].upper())
    note = _note(item, names, locale)
    meta = f"<b>{html.escape(item.author)}</b> {html.escape(when(item.at))}"
    if note:
        meta += f' <span class="note">{html.escape(note)}</span>'
    body = blocks_html(item.blocks, names, images) if item.blocks else ""
    if not body and item.text:
        body = f'<div class="b-text">{mrkdwn_html(item.text, names)}</div>'
    if item.kind == "modal":
        body = f'<div class="modal"><div class="title">{html.escape(item.title)}</div>{body}</div>'
    if item.kind == "file":
        body += f'<div class="file">📄 {html.escape(item.title)}</div>'
    cause = f'<div class="cause">{html.escape(item.narration)}</div>' if item.narration else ""
    return (
        f'<div class="msg"><div class="avatar{" human" if human else ""}">{initial}</div>'
        f'<div><div class="meta">{meta}</div>{cause}{body}</div></div>'
    )
