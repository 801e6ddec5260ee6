"""Service levels of customer issues (docs/INTERFACE.md "Customers and service levels").

The one place that starts, pauses, resumes and settles an issue's service-level clocks. Other features
call these functions and never touch the ``sla_*`` / ``*_due`` columns themselves:

- ``start_clocks`` when an issue with an external requester is logged (from ``create_record``);
- ``note_first_response`` when an internal person answers in the issue's thread (intake / conversation).

(The arithmetic, the status and priority hooks and the ``sla`` job are being built; see issue 13.)
"""

from __future__ import annotations

from datetime import datetime

from storage.models import Kind, Project, Record


def start_clocks(record: Record, project: Project, *, start: datetime) -> None:
    """Start the clocks of a just-logged issue whose requester is external, from ``start``."""
    if record.kind != Kind.ISSUE:
        return
    record.sla_start = start


def note_first_response(record: Record, *, at: datetime) -> bool:
    """Remember the first response (the earliest one wins); True when this one is now the first."""
    if record.sla_start is None or at < record.sla_start:
        return False
    if record.first_response_at is not None and record.first_response_at <= at:
        return False
    record.first_response_at = at
    return True
