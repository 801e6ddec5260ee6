"""The life cycle of each kind, as the domain names it: the one definition is :mod:`storage.record_states`.

The store types ``Record.status`` with it, so it lives beside the models; the domain, the builders and
the jobs read it from here.
"""

from __future__ import annotations

from storage.record_states import (
    LIFECYCLES,
    IssueStatus,
    Lifecycle,
    Move,
    RecordStatus,
    RequirementStatus,
    RiskStatus,
    TaskStatus,
    Verb,
    is_open,
)

__all__ = [
    "LIFECYCLES",
    "IssueStatus",
    "Lifecycle",
    "Move",
    "RecordStatus",
    "RequirementStatus",
    "RiskStatus",
    "TaskStatus",
    "Verb",
    "is_open",
]
