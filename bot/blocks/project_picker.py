"""The project picker of the record and meeting forms, for any number of projects. Pure, no I/O.

A static select holds at most 100 options, so a workspace with more projects gets an external select
whose options the app serves as the person types (``block_suggestion``, see ``bot.commands.forms``):
https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#external_select
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.blocks.basics import _option, plain
from bot.domain.views import ProjectView
from bot.i18n import t
from bot.slack import ids, limits

# Every keystroke asks for options, and opening the menu (nothing typed) lists the first projects.
MIN_QUERY_LENGTH = 0


def project_option(project: ProjectView) -> dict[str, Any]:
    """One project as an option; the same object in a static list, an options answer and ``initial_option``."""
    return _option(f"{project.key} — {project.name}", str(project.id))


def project_picker(
    locale: str, projects: Sequence[ProjectView], selected_id: int | None = None
) -> dict[str, Any]:
    """A static select over ``projects`` when they fit in one, else an external select."""
    options = [project_option(p) for p in projects]
    element: dict[str, Any] = {
        "action_id": ids.ACTION_PROJECT,
        "placeholder": plain(t(locale, "Choose a project")),
    }
    if len(options) <= limits.SELECT_OPTIONS:
        element.update(type="static_select", options=options)
    else:
        element.update(type="external_select", min_query_length=MIN_QUERY_LENGTH)
    chosen = next((o for o in options if o["value"] == str(selected_id)), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return element


def project_options(projects: Sequence[ProjectView]) -> dict[str, Any]:
    """The answer to an options request: at most 100 options (block_suggestion reference)."""
    return {"options": [project_option(p) for p in projects[: limits.SELECT_OPTIONS]]}
