"""The zh-CN catalogue covers every message id in the code and templates, and both locales render."""

from __future__ import annotations

import re
from datetime import date
from importlib import resources
from types import SimpleNamespace
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from jinja2 import meta

from bot.blocks.rendering import environment, render
from bot.domain.errors import UserError
from bot.i18n import error_text, normalise_locale, t, translations
from bot.i18n.catalog import extract_messages, load_catalog, main, placeholders
from tests.projects.test_closure import TEMPLATE_CONTEXT as CLOSURE_CONTEXT

CJK = re.compile(r"[\u4e00-\u9fff]")
TEMPLATES = sorted(p.name for p in resources.files("aftercare_templates").iterdir() if p.name.endswith(".j2"))

# Values for every name the templates use; a template needing a name not here fails test_template_context_known.
CONTEXT: dict[str, Any] = {
    "command": "/req",
    "kind_plural": "requirements",
    "extra_options": " [est:4h]",
    "kind_label": "requirement",
    "key": "ACME-12",
    "name": "Acme Corp after-sales",
    "title": "Printer jams on tray 2",
    "user_id": "UALICE",
    "created_by": "UALICE",
    "assignee_id": "UBOB",
    "status_label": "open",
    "priority_label": "high",
    "due_date": date(2026, 12, 1),
    "estimate_hours": 4,
    "score": 12,
    "probability": 3,
    "impact": 4,
    "source_url": "https://example.slack.com/archives/C1/p1",
    "text": "It's <b>jammed</b> & stuck\nsecond line",
    "channel_id": "C2",
    "was_main": True,
    "changes": ["Time zone", "Language"],
    "status": {
        "closed": False,
        "today": date(2026, 11, 26),
        "internal": True,
        "counts": [{"label": "Issues", "open": 11, "overdue": 2}],
        "workload": [{"user_id": "UBOB", "tasks": 2, "issues": 1, "hours": "42", "overloaded": True}],
        # Record and workload lines are built in Python (bot.blocks.digest), the templates print them.
        "lines": ["• *ACME-5* Printer jams · task · <@UBOB> · Due: Sun, Nov 1, 2026 · 8 days overdue"],
        "any_overloaded": True,
        "unassigned": 1,
        "overload_hours": "40",
        "overload_items": 10,
        "risks": [
            {
                "key": "ACME-7",
                "title": "Vendor delay",
                "score": 12,
                "probability": 3,
                "impact": 4,
                "status_label": "open",
                "owner_id": "UBOB",
            }
        ],
    },
    "moves": ["start", "done"],
    "field": "due_date",
    "old": "2026-12-01",
    "new": "2026-12-08",
    "by": "UBOB",
    "at": "Dec 1, 2026",
    "scope_change": True,
    "show_values": True,
    "comment": False,
    "digest": {
        "key": "ACME",
        "name": "Acme Corp after-sales",
        "start": date(2026, 11, 2),
        "end": date(2026, 11, 8),
        "mode": "overdue",
        "count": 3,
        "more": 2,
        "changes": [
            {
                "key": "ACME-4",
                "title": "Dark mode",
                "label": "due date",
                "show_values": True,
                "old": "Mon, Nov 30, 2026",
                "new": "Tue, Dec 15, 2026",
                "by": "UALICE",
                "at": "Wed, Nov 4, 2026",
            }
        ],
        "open_issues": 1,
        "issues": [
            {
                "priority_label": "High",
                "count": 1,
                "median_days": "6",
                "oldest_key": "ACME-9",
                "oldest_days": 6,
            }
        ],
        "risks": [
            {
                "key": "ACME-7",
                "title": "Vendor delay",
                "score": 12,
                "probability": 3,
                "impact": 4,
                "status_label": "open",
                "owner_id": "UBOB",
            }
        ],
        "workload": [{"user_id": "UBOB", "tasks": 2, "issues": 1, "hours": "42", "overloaded": True}],
        # Record and workload lines are built in Python (bot.blocks.digest), the templates print them.
        "lines": ["• *ACME-5* Printer jams · task · <@UBOB> · Due: Sun, Nov 1, 2026 · 8 days overdue"],
        "unassigned": 1,
        "any_overloaded": True,
        "overload_hours": "40",
        "overload_items": 10,
        "kpi_days": 90,
        "on_time": "67% (2 of 3)",
        "resolution": "2.5 days",
        "exposure": "26 (open risks: 2)",
        "satisfaction": "—",
    },
    "review": {
        "key": "ACME",
        "name": "Acme Corp after-sales",
        "open_count": 3,
        "flagged_count": 2,
        "stale_days": 14,
        "owners": ["UBOB"],
        "unowned": 1,
        "risk": {
            "key": "ACME-7",
            "title": "Vendor delay",
            "open": True,
            "flagged": True,
            "score": 12,
            "probability": 3,
            "impact": 4,
            "status_label": "open",
            "owner_id": "UBOB",
            "owner_name": "Bob",
            "last_reviewed": date(2026, 10, 20),
        },
    },
    "card": SimpleNamespace(
        user_ids=("UCHEN", "UKIM"),
        reminder=True,
        kind="issue",
        name="Acme Corp after-sales",
        record_key="ACME-7",
        record_title="Login fails",
        closes_on=date(2026, 12, 7),
    ),
    "survey": SimpleNamespace(
        key="ACME",
        name="Acme Corp after-sales",
        kind="on_demand",
        role="customer",
        reminder=True,
        closed=False,
        score=4,
        recommend="8",
        comment=True,
        closes_on=date(2026, 12, 7),
        kind_label="pulse survey",
        asked=4,
        answered=3,
        rate="75%",
        average="4.3",
        recommend_answers=2,
        hidden=False,
        min_answers=3,
        distribution=[SimpleNamespace(score=5, bar="███", count=2)],
        comments_count=2,
        count=3,
    ),
    "retro": CLOSURE_CONTEXT["retro"],
    "docs": CLOSURE_CONTEXT["docs"],
    "count": 3,
    "days": 4,
    "state": "overdue",
    "until": date(2026, 12, 1),
    "meeting": SimpleNamespace(
        key="ACME-3",
        title="Weekly sync",
        source_url="https://example.slack.com/archives/C1/p1",
        held_on=date(2026, 12, 1),
        created_by="UALICE",
        attendees=["UALICE", "UBOB"],
        notes="Walked through the backlog",
        decisions="Ship on Friday",
        items=[
            SimpleNamespace(
                key="ACME-4", title="Send the quote", assignee_id="UBOB", due_date=date(2026, 12, 4)
            )
        ],
    ),
    "meetings": [
        SimpleNamespace(
            key="ACME-3",
            title="Weekly sync",
            held_on=date(2026, 12, 1),
            items=[SimpleNamespace(key="ACME-4")],
        )
    ],
    "projects": [
        SimpleNamespace(key="ACME", name="Acme Corp after-sales", status="active", channel_id="CPROJ"),
        SimpleNamespace(key="BETA", name="Beta Ltd", status="closed", channel_id=None),
    ],
}


@pytest.fixture(scope="module")
def messages() -> dict[str, list[str]]:
    found = extract_messages()
    assert len(found) > 50, "extraction found suspiciously few message ids"
    return found


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_catalogue_header(catalog: Catalog) -> None:
    headers = dict(catalog.mime_headers)
    assert headers["Language"] == "zh_CN"
    assert headers["Plural-Forms"] == "nplurals=1; plural=0;"
    assert "charset=utf-8" in headers["Content-Type"].lower()


def test_extraction_sees_code_and_templates(messages: dict[str, list[str]]) -> None:
    assert "A title is needed." in messages  # N_() in Python
    assert "Save" in messages  # t(locale, ...) in Python
    assert "Status: %(status)s" in messages  # _() in a template
    spots = {spot.split("/")[0] for spots in messages.values() for spot in spots}
    assert spots == {"bot", "templates"} or spots == {"bot", "aftercare_templates"}


def test_every_message_has_a_translation(messages: dict[str, list[str]], catalog: Catalog) -> None:
    compiled = translations("zh-CN")
    missing = []
    for msgid, spots in sorted(messages.items()):
        message = catalog.get(msgid)
        if message is None or not message.string or message.fuzzy:
            missing.append(f"{msgid!r} ({spots[0]})")
        elif compiled.gettext(msgid) != message.string:
            missing.append(f"{msgid!r} is not in the compiled catalogue")
    assert not missing, (
        "untranslated (run `python -m bot.i18n.catalog update`, then translate):\n" + "\n".join(missing)
    )


def test_translations_keep_placeholders(catalog: Catalog) -> None:
    wrong = []
    for message in catalog:
        if not message.id or not isinstance(message.id, str) or not isinstance(message.string, str):
            continue
        if not message.string:
            continue
        if placeholders(message.string) != placeholders(message.id):
            wrong.append(f"{message.id!r} → {message.string!r}")
        elif placeholders(message.id):
            try:
                message.string % dict.fromkeys(placeholders(message.id), "x")
            except (ValueError, TypeError, KeyError) as exc:
                wrong.append(f"{message.string!r}: {exc}")
    assert not wrong, "\n".join(wrong)


# One punctuation convention for Chinese: full-width marks next to Chinese text, no space after
# a sentence. Half-width ( ) : , ; ! ? touching a Chinese character (a space between counts as
# touching) is a mix; ``due:2026-12-01`` and ``!high`` are command syntax, not punctuation.
_HAN = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
_MIXED = re.compile(
    rf"{_HAN} ?\(|\) ?{_HAN}|{_HAN} ?[:,;!?](?![A-Za-z0-9])|(?<![A-Za-z0-9])[:,;!?] ?{_HAN}|[。，：；！？] +[^\s\]]"
)


def mixed_punctuation(text: str) -> list[str]:
    """The lines of ``text`` that mix half-width punctuation into Chinese (placeholders and mrkdwn marks aside)."""
    text = re.sub(r"[*_~]", "", re.sub(r"%\([a-z_]+\)[sd]", "X", text))
    return [line for line in text.splitlines() if _MIXED.search(line)]


def test_mixed_punctuation_is_found() -> None:
    assert (
        mixed_punctuation("本周完成 (2)")
        and mixed_punctuation("中: 1")
        and mixed_punctuation("已结项。 您对")
    )
    assert mixed_punctuation("*已逾期*（0）") == []
    assert mixed_punctuation("请使用 !low 或 due:2026-12-01。") == []


def test_chinese_catalogue_uses_full_width_punctuation(catalog: Catalog) -> None:
    wrong = [
        f"{message.id!r} → {line!r}"
        for message in catalog
        if message.id and isinstance(message.string, str) and message.string
        for line in mixed_punctuation(message.string)
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("template", TEMPLATES)
def test_chinese_templates_use_full_width_punctuation(template: str) -> None:
    assert mixed_punctuation(render(template, "zh-CN", **CONTEXT)) == []


def test_check_command_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0, capsys.readouterr().out


@pytest.mark.parametrize(
    ("msgid", "params"),
    [
        ("Logged %(key)s.", {"key": "ACME-7"}),
        ("Save", {}),
        ("in progress", {}),
        ("Unknown subcommand %(sub)s. Try %(command)s help.", {"sub": "frob", "command": "/task"}),
    ],
)
def test_t_translates_zh_and_passes_english_through(msgid: str, params: dict[str, str]) -> None:
    english = t("en", msgid, **params)
    assert english == (msgid % params if params else msgid)
    assert not CJK.search(english)
    chinese = t("zh-CN", msgid, **params)
    assert CJK.search(chinese), chinese
    assert chinese != english
    for value in params.values():
        assert value in chinese


def test_user_errors_are_translated() -> None:
    error = UserError("%(key)s is not a record key (like ACME-12).", key="FOO")
    assert error_text("en", error) == "FOO is not a record key (like ACME-12)."
    assert error_text("zh-CN", error).startswith("FOO") and CJK.search(error_text("zh-CN", error))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("zh_CN", "zh-CN"),
        ("zh-CN", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("zh_Hans_CN", "zh-CN"),
        ("en-US", "en"),
        ("en_GB", "en"),
        ("en", "en"),
        (None, "en"),
        ("", "en"),
        ("fr-FR", "en"),
    ],
)
def test_normalise_locale(value: str | None, expected: str) -> None:
    assert normalise_locale(value) == expected


def test_templates_found() -> None:
    assert "record_facts.j2" in TEMPLATES and "project_help.j2" in TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_context_known(template: str) -> None:
    env = environment("en")
    assert env.loader is not None
    source = env.loader.get_source(env, template)[0]
    needed = meta.find_undeclared_variables(env.parse(source)) - set(env.globals) - {"locale"}
    assert needed <= set(CONTEXT), f"add {sorted(needed - set(CONTEXT))} to CONTEXT in {__file__}"


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("context", [CONTEXT, {**CONTEXT, "projects": [], "source_url": None, "score": None}])
def test_template_renders_in_both_locales(
    template: str, context: dict[str, Any], messages: dict[str, list[str]]
) -> None:
    english = render(template, "en", **context)
    chinese = render(template, "zh-CN", **context)
    assert english and chinese
    translatable = [
        m for m, spots in messages.items() if any(s.split(":")[0].endswith("/" + template) for s in spots)
    ]
    if translatable:
        assert chinese != english
        assert CJK.search(chinese), chinese
    if not any(CJK.search(m) for m in translatable):
        assert not CJK.search(english), english
