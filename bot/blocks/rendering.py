"""Jinja2 templates for message text, one environment per locale.

Templates render text only. Every value printed with ``{{ }}`` is escaped for
Slack (``& < >``), unless it is :class:`markupsafe.Markup` built by the bot
itself (mentions, links to records).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from bot.i18n import format_date, translations
from bot.slack.text import escape


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return str(value)
    return escape(str(value))


def safe(text: str) -> Markup:
    """Mark bot-built Slack markup (a mention, a link) as not to be escaped."""
    return Markup(text)


def slack_gettext(locale: str, message: str, **params: Any) -> Markup:
    """Translate, then fill placeholders with values escaped for Slack."""
    text = translations(locale).gettext(message)
    if not params:
        return Markup(text)
    return Markup(text % {name: _finalize(value) for name, value in params.items()})


@dataclass(frozen=True)
class Punctuation:
    """What templates put between pieces of text they join: Chinese writes full-width marks
    (``（）：``) and no space after a sentence; other languages a space, ``: `` and `` (…)``."""

    gap: str  # between two sentences, and after a label's colon from the catalogue
    colon: str  # between a label and its value
    open: str  # before a count or a note in brackets
    close: str
    comma: str  # between the items of a list


WESTERN = Punctuation(gap=" ", colon=": ", open=" (", close=")", comma=", ")
CHINESE = Punctuation(gap="", colon="：", open="（", close="）", comma="，")


def punctuation(locale: str) -> Punctuation:
    return CHINESE if locale == "zh-CN" else WESTERN


@lru_cache(maxsize=8)
def environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(resources.files("aftercare_templates"))),
        extensions=["jinja2.ext.i18n"],
        autoescape=False,
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # Templates ship with the package: compiled once per process, never checked on disk again
        # (a weekly job renders tens of thousands of messages).
        auto_reload=False,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    # Our own ``_``: trusted catalogue text, escaped user values, bot-built Markup kept as is.
    env.globals["_"] = env.globals["gettext"] = lambda message, **params: slack_gettext(
        locale, message, **params
    )
    env.globals["p"] = punctuation(locale)
    env.filters["date"] = lambda value: format_date(value, locale) if value else ""
    env.globals["mention"] = lambda user_id: Markup(f"<@{user_id}>") if user_id else ""
    env.globals["channel"] = lambda channel_id: Markup(f"<#{channel_id}>") if channel_id else ""
    return env


def render(template: str, locale: str, **context: Any) -> str:
    return environment(locale).get_template(template).render(locale=locale, **context).strip()
