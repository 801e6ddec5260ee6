"""Keep the zh-CN catalogue in step with the code.

``python -m bot.i18n.catalog update``: add newly found message ids to the ``.po`` file
(translations kept, new ones empty, ids no longer used kept as obsolete ``#~`` entries).
``python -m bot.i18n.catalog check``: list message ids without a translation; exit 1 if any.
"""

from __future__ import annotations

import re
import sys
from importlib import resources
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

LOCALE = "zh_CN"
KEYWORDS: dict[str, tuple[int, ...] | None] = {"N_": None, "t": (2,), "_": None}
SOURCES = (("bot", "**.py", "python"), ("aftercare_templates", "**.j2", "jinja2.ext:babel_extract"))
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def po_path() -> Path:
    return Path(str(resources.files("bot.i18n.locale"))) / LOCALE / "LC_MESSAGES" / "messages.po"


def extract_messages() -> dict[str, list[str]]:
    """Every message id in the bot's Python code and templates → where it occurs (``path:line``)."""
    found: dict[str, list[str]] = {}
    for package, pattern, method in SOURCES:
        folder = Path(str(resources.files(package)))
        for filename, lineno, message, _comments, _context in extract_from_dir(
            folder, [(pattern, method)], keywords=KEYWORDS
        ):
            msgid = message if isinstance(message, str) else message[0]
            if msgid:
                found.setdefault(msgid, []).append(f"{folder.name}/{Path(filename).as_posix()}:{lineno}")
    return found


def load_catalog(path: Path | None = None) -> Catalog:
    path = path or po_path()
    if not path.exists():
        return Catalog(locale=LOCALE, project="Aftercare", fuzzy=False)
    with path.open("rb") as handle:
        return read_po(handle, locale=LOCALE)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def update(path: Path | None = None) -> Catalog:
    """Rewrite the catalogue: one entry per extracted id, sorted, existing translations kept."""
    path = path or po_path()
    old, found = load_catalog(path), extract_messages()
    new = Catalog(locale=LOCALE, header_comment=old.header_comment, fuzzy=False)
    new.mime_headers = old.mime_headers
    kept = {m.id: m for m in [*old.obsolete.values(), *old] if m.id and isinstance(m.id, str)}
    for msgid, locations in found.items():
        previous = kept.pop(msgid, None)
        spots = [(spot.rpartition(":")[0], int(spot.rpartition(":")[2])) for spot in locations]
        new[msgid] = Message(msgid, previous.string if previous else "", locations=spots)
    for gone, message in kept.items():
        if message.string:
            new.obsolete[gone] = Message(gone, message.string)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, new, sort_output=True, width=100)
    return new


def problems(catalog: Catalog | None = None) -> list[str]:
    """Extracted ids whose translation is missing or has different placeholders."""
    catalog = catalog or load_catalog()
    found: list[str] = []
    for msgid, locations in sorted(extract_messages().items()):
        message = catalog.get(msgid)
        text = message.string if message and isinstance(message.string, str) else ""
        if not text:
            found.append(f"missing translation: {msgid!r} ({locations[0]})")
        elif placeholders(text) != placeholders(msgid):
            found.append(f"placeholders differ: {msgid!r} ({locations[0]})")
    return found


def main(argv: list[str] | None = None) -> int:
    command = (argv if argv is not None else sys.argv[1:]) or ["check"]
    if command not in (["update"], ["check"]):
        print("usage: python -m bot.i18n.catalog [update|check]", file=sys.stderr)
        return 2
    catalog = update() if command == ["update"] else load_catalog()
    found = problems(catalog)
    for line in found:
        print(line)
    if command == ["update"]:
        print(f"{po_path()}: {len(catalog)} messages, {len(found)} to translate")
        return 0
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
