"""The shape of the request path, read from the source: listeners open no transaction, reach no engine, and
no listener module imports another (ARCHITECTURE.md, "The request path")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COMMANDS = Path(__file__).resolve().parents[2] / "bot" / "commands"
# What listener modules may share: the preamble and the guard. ``__init__`` is the table that registers them all.
SHARED = {"bot.commands.common", "bot.commands.guard"}
# The engine and its sessions belong to the features a listener calls.
BANNED_IMPORTS = ("storage.db", "sqlalchemy")
LISTENERS = sorted(p for p in COMMANDS.glob("*.py") if p.name != "__init__.py")


def _imports(tree: ast.AST) -> list[tuple[int, set[str]]]:
    """Each import, at any depth, with its line and the modules it may name (``from a import b``: ``a``, ``a.b``)."""
    found: list[tuple[int, set[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.append((node.lineno, {alias.name for alias in node.names}))
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, {node.module} | {f"{node.module}.{a.name}" for a in node.names}))
    return found


def transactions(source: str) -> list[str]:
    """``.read(`` / ``.write(`` calls (a transaction opened on the database), imports of the engine or sessions."""
    tree = ast.parse(source)
    found = [
        f"line {node.lineno}: .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("read", "write")
    ]
    found += [
        f"line {line}: imports {banned}"
        for line, names in _imports(tree)
        for banned in BANNED_IMPORTS
        if any(name == banned or name.startswith(f"{banned}.") for name in names)
    ]
    return found


def listener_imports(source: str, own: str) -> list[str]:
    """The other listener modules a listener module imports (``common`` and ``guard`` are shared, not listeners)."""
    return sorted(
        {
            module
            for _line, names in _imports(ast.parse(source))
            for name in names
            if name.startswith("bot.commands.")
            # bot.commands.common.reporting is bot.commands.common
            and (module := ".".join(name.split(".")[:3])) not in SHARED
            and module != own
        }
    )


def _module(path: Path) -> str:
    return f"bot.commands.{path.stem}"


@pytest.mark.parametrize("path", LISTENERS, ids=lambda p: p.name)
def test_a_listener_opens_no_transaction(path: Path) -> None:
    assert transactions(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", LISTENERS, ids=lambda p: p.name)
def test_a_listener_imports_no_other_listener(path: Path) -> None:
    assert listener_imports(path.read_text(encoding="utf-8"), _module(path)) == []


def test_only_the_app_factory_imports_the_listeners() -> None:
    """Dependencies point one way: listeners call features, never the reverse (``bot/slack/app.py`` registers them)."""
    bot = COMMANDS.parent
    importers = sorted(
        str(path.relative_to(bot.parent))
        for path in bot.rglob("*.py")
        if COMMANDS not in path.parents
        and any(
            name == "bot.commands" or name.startswith("bot.commands.")
            for _line, names in _imports(ast.parse(path.read_text(encoding="utf-8")))
            for name in names
        )
    )
    assert importers == ["bot/slack/app.py"]


def test_the_listener_modules_are_all_checked() -> None:
    assert {p.stem for p in LISTENERS} >= {
        "common",
        "guard",
        "project",
        "records",
        "intake",
        "meeting",
        "forms",
    }


def test_the_checks_see_what_they_forbid() -> None:
    """The checks themselves: each forbidden shape, written the ways it can be, is found."""
    source = """
from storage.db import Database
import storage.db
from storage import db
from bot.commands import records
from bot.commands.common import reporting
import bot.commands.nudges
from sqlalchemy.orm import Session

def listener(services):
    with services.db.write() as session:
        pass
    with services.db.read() as session:
        pass
"""
    assert transactions(source) == [
        "line 11: .write()",
        "line 13: .read()",
        "line 2: imports storage.db",
        "line 3: imports storage.db",
        "line 4: imports storage.db",
        "line 8: imports sqlalchemy",
    ]
    assert listener_imports(source, "bot.commands.meeting") == ["bot.commands.nudges", "bot.commands.records"]
    assert listener_imports("from bot.commands.guard import after_ack", "bot.commands.records") == []


BOT = COMMANDS.parent
# Imports a function may make on purpose, each for a reason ARCHITECTURE.md gives ("Imports inside
# functions"): the command line keeps ``aftercare --help`` fast; the chart drawing, the OAuth installation
# store (runner) and the WSGI servers are loaded only when used.
LATE_IMPORTS_ALLOWED = {
    "bot/ops/cli.py",
    "bot/blocks/charts.py",
    "bot/delivery/runner.py",
    "bot/slack/server.py",
}
PACKAGES = {"blocks", "commands", "delivery", "demo", "domain", "features", "i18n", "jobs", "ops", "slack"}


def late_imports(source: str) -> list[int]:
    """Lines of the imports made inside a function."""
    return sorted(
        node.lineno
        for function in ast.walk(ast.parse(source))
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
    )


def test_the_top_of_bot_holds_packages_only() -> None:
    """The layout shows the architecture: no loose modules beside the packages (ARCHITECTURE.md, "Layout")."""
    assert sorted(p.name for p in BOT.glob("*.py")) == ["__init__.py", "__main__.py"]
    assert {p.name for p in BOT.iterdir() if (p / "__init__.py").exists()} == PACKAGES


@pytest.mark.parametrize(
    "path",
    sorted(p for p in BOT.rglob("*.py") if str(p.relative_to(BOT.parent)) not in LATE_IMPORTS_ALLOWED),
    ids=lambda p: str(p.relative_to(BOT)),
)
def test_no_import_hides_inside_a_function(path: Path) -> None:
    assert late_imports(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "path",
    sorted(BOT.rglob("*.py")) + sorted((BOT.parent / "storage").rglob("*.py")),
    ids=lambda p: str(p.relative_to(BOT.parent)),
)
def test_no_product_module_is_over_500_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500


def test_the_checks_see_a_late_import() -> None:
    assert late_imports("import os\n\ndef f():\n    import json\n    return json\n") == [4]


FEATURES = sorted(p for p in (BOT / "features").glob("*.py") if p.name != "__init__.py")


def sql_imports(source: str) -> list[str]:
    """What a module takes from SQLAlchemy beyond the ``Session`` type (a session passed along, not queried)."""
    return sorted(
        name
        for _line, names in _imports(ast.parse(source))
        for name in names
        if (name == "sqlalchemy" or name.startswith("sqlalchemy."))
        and name not in ("sqlalchemy.orm", "sqlalchemy.orm.Session")
    )


@pytest.mark.parametrize("path", FEATURES, ids=lambda p: p.name)
def test_a_feature_writes_no_sql(path: Path) -> None:
    """Features sequence the steps; the queries live in ``bot/domain`` and ``storage`` (ARCHITECTURE.md)."""
    assert sql_imports(path.read_text(encoding="utf-8")) == []


def test_the_sql_check_sees_a_query() -> None:
    assert sql_imports("from sqlalchemy import select\nfrom sqlalchemy.orm import Session\n") == [
        "sqlalchemy",
        "sqlalchemy.select",
    ]
    assert sql_imports("import sqlalchemy as sa\n") == ["sqlalchemy"]
