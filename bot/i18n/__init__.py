"""Translations from a real gettext catalogue (``bot/i18n/locale/<ll_CC>/LC_MESSAGES/messages.po``).

English is the source language; Simplified Chinese is ``zh-CN``. Catalogues are
compiled in memory from the shipped ``.po`` files on first use.
"""

from __future__ import annotations

import gettext
import io
import logging
import uuid
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.domain.errors import UserError
from bot.slack.text import escape

DEFAULT_LOCALE = "en"
LOCALES = ("en", "zh-CN")


def normalise_locale(value: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Map Slack's and people's spellings (``zh-CN``, ``zh_CN``, ``zh-Hans``) onto a supported locale."""
    if not value:
        return default
    lowered = value.replace("_", "-").lower()
    if lowered in ("zh", "zh-cn", "zh-hans", "zh-hans-cn", "zh-sg"):
        return "zh-CN"
    if lowered.startswith("en"):
        return "en"
    return default


@lru_cache(maxsize=8)
def translations(locale: str) -> gettext.NullTranslations:
    if locale == DEFAULT_LOCALE:
        return gettext.NullTranslations()
    folder = locale.replace("-", "_")
    po = resources.files("bot.i18n.locale") / folder / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=folder)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def t(locale: str, message: str, **params: Any) -> str:
    """Translate ``message`` (a catalogue id with ``%(name)s`` placeholders) into ``locale``."""
    text = translations(locale).gettext(message)
    return text % params if params else text


def error_text(locale: str, error: UserError, *, in_message: bool = False) -> str:
    """The error in ``locale``. ``in_message``: it goes into a message, so the values people typed are escaped
    (a modal's error text is plain text and needs none)."""
    if not in_message:
        return t(locale, error.message, **error.params)
    params = {
        name: escape(value) if isinstance(value, str) else value for name, value in error.params.items()
    }
    return t(locale, error.message, **params)


@lru_cache(maxsize=8192)
def format_date(value: date, locale: str) -> str:
    """A date as people of ``locale`` write it: ``Tue, Dec 1, 2026`` / ``2026年12月1日 周二``.

    Cached: Babel's formatting is slow and a weekly job formats the same few dates tens of thousands of times.
    """
    if locale == "zh-CN":
        weekday = babel_format_date(value, "EEE", locale="zh_CN")
        return f"{babel_format_date(value, 'long', locale='zh_CN')} {weekday}"
    return babel_format_date(value, "EEE, MMM d, y", locale="en")


# Names a language goes by where Babel's (``中文 (简体, 中国)``) mixes punctuation into Chinese.
_LANGUAGE_NAMES = {"zh-CN": "简体中文"}


def language_name(locale: str) -> str:
    """A language in its own words, for the language picker."""
    if locale in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[locale]
    return Locale.parse(locale.replace("-", "_")).get_display_name(locale.replace("-", "_")) or locale


# The apology is logged with the listeners' errors, whoever says it (a listener, the guard, the closing flow).
_errors_log = logging.getLogger("aftercare.listeners")


def apology(locale: str, what: str) -> str:
    """Log the error being handled under a short reference, and say sorry with that reference (no traceback)."""
    ref = uuid.uuid4().hex[:8]
    _errors_log.exception("%s failed (ref %s)", what, ref)
    return t(
        locale,
        "Sorry, something went wrong on our side (ref %(ref)s). Please try again in a moment.",
        ref=ref,
    )
