"""Long lists, histories and descriptions stay within Slack's limits by showing fewer whole lines.

Nothing is cut mid-line or mid-entity: every line shown is whole, every ``&`` is an entity,
every ``<`` opens a mention the bot built, and what is shown plus the "…and N more" adds up.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from bot.domain import lifecycle
from bot.domain.records import NewRecord, create_record
from bot.slack.text import escape
from storage.models import Kind, Project
from tests.harness import HARNESS_NOW, SlackHarness

LINE_START = re.compile(r"^• \*(ACME-\d+)\* ")


def _entities_whole(text: str) -> None:
    assert not re.findall(r"&(?!amp;|lt;|gt;)", text), "a cut or raw & entity"
    rest = re.sub(r"<@[UW][A-Z0-9]+>", "", text)
    assert "<" not in rest and ">" not in rest, "a cut or raw < > entity"


def _more(block: dict[str, Any], word: str) -> int:
    assert block["type"] == "context"
    match = re.fullmatch(rf"…and (\d+) {word}", block["elements"][0]["text"])
    assert match, block
    return int(match.group(1))


def _create(slack: SlackHarness, title: str, description: str = "", kind: Kind = Kind.ISSUE) -> str:
    with slack.db.write() as session:
        project = session.scalars(select(Project)).one()
        record = create_record(
            session, team_id="T0001", project_id=project.id, user_id="UALICE",
            new=NewRecord(kind=kind, title=title, description=description), now=HARNESS_NOW,
        )  # fmt: skip
    return record.key


def _shown(slack: SlackHarness) -> list[dict[str, Any]]:
    reply = slack.fake.calls_to("response_url")[-1]
    blocks: list[dict[str, Any]] = reply.args["blocks"]
    return blocks


def test_forty_long_titles_show_whole_lines_and_count_the_rest(project: SlackHarness) -> None:
    titles = {}
    for n in range(40):
        title = f"Scanner {n} & <tray> jams <@UEVIL> " + "lorem ipsum " * 20
        titles[_create(project, title[:200].strip())] = title[:200].strip()

    project.command("/issue", "list")

    heading, body, more = _shown(project)
    assert heading["text"]["text"].endswith(": 40*")
    lines = body["text"]["text"].split("\n")
    assert len(body["text"]["text"]) <= 3000
    for line in lines:
        match = LINE_START.match(line)
        assert match, line
        assert line.startswith(f"• *{match.group(1)}* {escape(titles[match.group(1)])} — ")
        assert line.endswith(" — open")
    _entities_whole(body["text"]["text"])
    assert 5 < len(lines) < 40
    assert len(lines) + _more(more, r"more\.") == 40


def test_three_hundred_history_entries_show_the_latest_whole_lines(project: SlackHarness) -> None:
    key = _create(project, "Busy issue")
    comments = [f"Comment {n}: customer & <vendor> said <!here> " + "blah " * (n % 40) for n in range(299)]
    comments.append("Final word " + "& " * 1900)  # one comment longer than a whole section
    with project.db.write() as session:
        for text in comments:
            lifecycle.comment(session, team_id="T0001", key=key, text=text, user_id="UBOB", now=HARNESS_NOW)

    project.command("/issue", f"show {key}")

    blocks = _shown(project)
    history = next(
        b for b in blocks if b["type"] == "section" and "History and comments" in b["text"]["text"]
    )
    text = history["text"]["text"]
    assert len(text) <= 3000
    _entities_whole(text)
    lines = text.split("\n")[1:]
    assert all(re.fullmatch(r"• .+ <@UBOB>: “.+”", line) for line in lines), lines
    # The newest entries, whole and in order; the very last one shortened in plain words, marked "…".
    assert lines[-1].endswith("&amp; &amp;…”") and "Final word" in lines[-1]
    for line, comment in zip(lines[:-1], comments[-len(lines) : -1], strict=True):
        assert line.endswith(f"“{escape(comment).strip()}”")
    earlier = blocks[blocks.index(history) + 1]
    assert len(lines) + _more(earlier, r"earlier\.") == 300


def test_a_long_description_shows_whole_lines_and_counts_the_rest(project: SlackHarness) -> None:
    paragraphs = [f"Step {n}: press <Enter> & wait for the green light on tray {n}. " * 3 for n in range(40)]
    key = _create(project, "Long manual", "\n".join(paragraphs))

    project.command("/issue", f"show {key}")

    blocks = _shown(project)
    assert blocks[0]["text"]["text"].startswith(f"*{key}*")
    quoted = blocks[1]["text"]["text"]
    assert len(quoted) <= 3000
    _entities_whole(quoted)
    lines = quoted.split("\n")
    for line, paragraph in zip(lines, paragraphs, strict=False):
        assert line == "&gt; " + escape(paragraph).strip()
    assert len(lines) + _more(blocks[2], r"more lines of description\.") == 40


def test_a_description_of_one_huge_line_is_shortened_in_words_not_entities(project: SlackHarness) -> None:
    key = _create(project, "One long line", "Broken & " * 1000)

    project.command("/issue", f"show {key}")

    quoted = _shown(project)[1]["text"]["text"]
    assert 2500 < len(quoted) <= 3000
    _entities_whole(quoted)
    assert quoted.startswith("&gt; Broken &amp; Broken") and quoted.endswith("&amp;…")
