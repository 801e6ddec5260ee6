"""The life cycle of each kind, exactly as the public interface names it."""

from __future__ import annotations

from dataclasses import dataclass

from storage.models import Kind


@dataclass(frozen=True)
class Lifecycle:
    initial: str
    open: tuple[str, ...]
    terminal: tuple[str, ...]
    close_to: str
    # verb → status it moves a record to
    moves: dict[str, str]


LIFECYCLES: dict[Kind, Lifecycle] = {
    Kind.REQUIREMENT: Lifecycle(
        initial="proposed",
        open=("proposed", "accepted", "in_progress"),
        terminal=("delivered", "rejected"),
        close_to="delivered",
        moves={"accept": "accepted", "start": "in_progress", "deliver": "delivered", "reject": "rejected"},
    ),
    Kind.ISSUE: Lifecycle(
        initial="open",
        open=("open", "in_progress", "resolved"),
        terminal=("closed",),
        close_to="closed",
        moves={"start": "in_progress", "resolve": "resolved", "reopen": "open"},
    ),
    Kind.TASK: Lifecycle(
        initial="open",
        open=("open", "in_progress"),
        terminal=("done",),
        close_to="done",
        moves={"start": "in_progress", "done": "done"},
    ),
    Kind.RISK: Lifecycle(
        initial="open",
        open=("open", "mitigating"),
        terminal=("closed",),
        close_to="closed",
        moves={"mitigate": "mitigating"},
    ),
}


def is_open(kind: Kind, status: str) -> bool:
    return status in LIFECYCLES[kind].open
