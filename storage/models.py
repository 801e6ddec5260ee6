"""Typed SQLAlchemy models. Every row belongs to one workspace (``team_id``).

Nothing in this package knows about Slack beyond storing its ids as strings. The tables live in sibling
modules, one concern each (``model_projects``, ``model_records``, ``model_people``, ``model_delivery``,
``model_surveys``; the base in ``model_base``, the vocabularies in ``enums`` and ``record_states``);
``from storage.models import X`` names any of them.
"""

from __future__ import annotations

from storage.enums import DeliveryStatus, Kind, MemberRole, Priority, ProjectStatus
from storage.model_base import NAMING_CONVENTION, Base, UTCDateTime
from storage.model_delivery import Delivery
from storage.model_people import ApiBudget, DirectorySync, Draft, Person, Workspace
from storage.model_projects import Document, Project, ProjectChannel, ProjectMember
from storage.model_records import ChannelMessage, HistoryEntry, Meeting, Record
from storage.model_surveys import Survey, SurveyParticipant, SurveyResponse

__all__ = [
    "NAMING_CONVENTION",
    "ApiBudget",
    "Base",
    "ChannelMessage",
    "Delivery",
    "DeliveryStatus",
    "DirectorySync",
    "Document",
    "Draft",
    "HistoryEntry",
    "Kind",
    "Meeting",
    "MemberRole",
    "Person",
    "Priority",
    "Project",
    "ProjectChannel",
    "ProjectMember",
    "ProjectStatus",
    "Record",
    "Survey",
    "SurveyParticipant",
    "SurveyResponse",
    "UTCDateTime",
    "Workspace",
]
