"""The closed vocabularies stored as strings: kinds, priorities, project, member and delivery states.

The statuses of records, and the moves between them, are :mod:`storage.record_states`.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    REQUIREMENT = "requirement"
    ISSUE = "issue"
    TASK = "task"
    RISK = "risk"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ProjectStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class MemberRole(StrEnum):
    OWNER = "owner"
    CUSTOMER_CONTACT = "customer_contact"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
