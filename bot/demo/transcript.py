"""What each person saw: a terminal transcript in story order, and an HTML page grouped by surface.

Slack's text and Block Kit are drawn by :mod:`bot.demo.blocks`; every piece of user text is HTML-escaped.
"""

from __future__ import annotations

import difflib
import html
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.demo.blocks import (
    Names,
    Shown,
    _text_obj,
    blocks_html,
    blocks_text,
    mrkdwn_html,
    mrkdwn_text,
)
from bot.demo.simulator import Call

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
            kind="human_reply" if args.get("thread_ts") else "human",
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
    "human_reply": "in thread",
    "update": "message updated",
    "ephemeral": "only visible to {who}",
    "modal": "modal “{title}”",
    "home": "App Home redrawn",
    "file": "file shared: {title}",
}
_KIND_ZH = {
    "reply": "在话题中",
    "human_reply": "在话题中",
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
    human = item.kind in ("human", "human_reply")
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


__all__ = [
    "Names",
    "Shown",
    "blocks_html",
    "blocks_text",
    "home_changes",
    "mrkdwn_html",
    "mrkdwn_text",
    "render_html",
    "shown_by",
    "surface_label",
    "terminal_lines",
]
