"""Who is internal, and who is the customer (INTERFACE.md "Customers and service levels").

Internal: a member of the installing workspace, or of its Enterprise Grid organisation, who is not a guest
(``is_restricted`` / ``is_ultra_restricted``) and not one of the project's customer contacts. Everyone else is
external: people of another organisation in a Slack Connect channel (``users.info`` → ``team_id`` /
``enterprise_user``, ``is_stranger``), guests and customer contacts.

The organisation comes from Bolt's actor ids (``actor_team_id`` / ``actor_enterprise_id``) when the payload
has them, else from the people directory, else from ``users.info`` (whose answer the directory keeps). Whether
someone is a guest comes from the directory, else ``users.info``. When nothing can tell, the person is not
internal. An event's top-level ``team_id`` is never used: in Slack Connect it can be the other organisation's.

Slack's pages: https://docs.slack.dev/reference/methods/users.info, https://docs.slack.dev/reference/objects/user-object
(``team_id``, ``enterprise_user``, ``is_restricted``, ``is_stranger``), https://docs.slack.dev/apis/slack-connect.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.slack.directory import store_members
from bot.slack.services import Services
from storage.models import MemberRole, Person, Project, ProjectMember

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Organisation:
    """The installing side: the workspace (tenant) and its Enterprise Grid organisation, if any."""

    team_id: str
    enterprise_id: str | None = None


@dataclass(frozen=True)
class Actor:
    """A person, with the organisation ids Bolt found for them in the payload (None: it could not say)."""

    user_id: str
    team_id: str | None = None
    enterprise_id: str | None = None


def same_organisation(org: Organisation, *, team_id: str | None, enterprise_id: str | None) -> bool | None:
    """Whether a home team / enterprise is the installing organisation's; None when neither id is known."""
    if not team_id and not enterprise_id:
        return None
    if team_id and team_id == org.team_id:
        return True
    # A sibling workspace of the same Enterprise Grid organisation is the same organisation.
    return bool(org.enterprise_id and org.enterprise_id in (enterprise_id, team_id))


def _from_slack(org: Organisation, member: dict[str, Any]) -> tuple[bool | None, bool | None]:
    """(same organisation, guest) from a ``users.info`` user object."""
    if member.get("is_stranger"):
        return False, None
    enterprise = (member.get("enterprise_user") or {}).get("enterprise_id") or member.get("enterprise_id")
    same = same_organisation(org, team_id=member.get("team_id"), enterprise_id=enterprise)
    guest = bool(member.get("is_restricted") or member.get("is_ultra_restricted"))
    return same, guest


def _from_directory(org: Organisation, person: Person | None) -> tuple[bool | None, bool | None]:
    if person is None:
        return None, None
    same = same_organisation(org, team_id=person.home_team_id, enterprise_id=person.home_enterprise_id)
    if same is False and org.enterprise_id and not person.home_enterprise_id:
        same = None  # stored before the directory kept organisations: maybe a sibling workspace
    return same, person.is_guest


def _ask_slack(
    services: Services, client: WebClient, org: Organisation, user_id: str
) -> tuple[bool | None, bool | None]:
    try:
        response = client.users_info(user=user_id, include_locale=True)
    except Exception as exc:  # user_not_found, network errors: nobody can tell
        log.info("users.info %s failed (%s): not internal", user_id, exc)
        return None, None
    member = response.get("user")
    if not isinstance(member, dict):
        return None, None
    try:  # the directory keeps what Slack said
        store_members(services, org.team_id, [member])
    except Exception:
        log.exception("could not keep %s in the directory", user_id)
    return _from_slack(org, member)


def is_contact(session: Session, *, project_id: int, user_id: str) -> bool:
    return (
        session.scalar(
            select(ProjectMember.id).where(
                ProjectMember.project_id == project_id,
                ProjectMember.user_id == user_id,
                ProjectMember.role == MemberRole.CUSTOMER_CONTACT,
            )
        )
        is not None
    )


def classify(
    services: Services,
    client: WebClient | None,
    org: Organisation,
    actor: Actor,
    *,
    project_id: int | None = None,
) -> bool | None:
    """True: internal; False: external (known to be); None: nothing could tell. Never raises."""
    with services.db.read() as session:
        if project_id is not None and is_contact(session, project_id=project_id, user_id=actor.user_id):
            return False
        person = session.scalar(
            select(Person).where(Person.team_id == org.team_id, Person.user_id == actor.user_id)
        )
        known_same, guest = _from_directory(org, person)
    same = same_organisation(org, team_id=actor.team_id, enterprise_id=actor.enterprise_id)
    if same is False and org.enterprise_id and not actor.enterprise_id:
        same = None  # another workspace, maybe of the same Grid organisation: the directory or Slack tells
    if same is False:
        return False
    if same is None:
        same = known_same
    if same is None or (same and guest is None):
        if client is None:
            return False if same is False else None
        asked_same, guest = _ask_slack(services, client, org, actor.user_id)
        same = asked_same if same is None else same and asked_same is not False
    if same is False or guest is True:
        return False
    if same is None or guest is None:
        return None
    return True


def is_internal(
    services: Services,
    client: WebClient | None,
    org: Organisation,
    actor: Actor,
    *,
    project_id: int | None = None,
) -> bool:
    """The one answer to "is this person internal?" (see the module's docstring); unknown is not internal."""
    return classify(services, client, org, actor, project_id=project_id) is True


def learn_contact(session: Session, *, project_id: int, user_id: str) -> bool:
    """An external person seen in a project's channel becomes its customer contact, unless an owner removed
    them for good (``projects.removed_contacts``). True when they were added now."""
    project = session.get(Project, project_id)
    if project is None or user_id in (project.removed_contacts or []):
        return False
    if is_contact(session, project_id=project_id, user_id=user_id):
        return False
    session.add(
        ProjectMember(
            team_id=project.team_id, project_id=project_id, user_id=user_id, role=MemberRole.CUSTOMER_CONTACT
        )
    )
    return True


def _verdict(same: bool | None, guest: bool | None) -> bool | None:
    if same is False or guest is True:
        return False
    if same is None or guest is None:
        return None
    return True


def internal_by_directory(org: Organisation, person: Person | None) -> bool | None:
    """The one rule read from a directory row alone (customer contacts aside): None when it cannot tell."""
    return _verdict(*_from_directory(org, person))


def internal_by_slack(org: Organisation, member: dict[str, Any]) -> bool | None:
    """The one rule read from a ``users.info`` user object alone (customer contacts aside)."""
    return _verdict(*_from_slack(org, member))


def of_another_organisation(
    home_team_id: str | None,
    team_id: str,
    *,
    home_enterprise_id: str | None = None,
    enterprise_id: str | None = None,
) -> bool:
    """Whether a person whose home workspace is ``home_team_id`` (Enterprise Grid organisation
    ``home_enterprise_id``) belongs to another organisation than workspace ``team_id`` (of ``enterprise_id``).

    A sibling workspace of the same Grid organisation is this organisation (they can be DMed), by the one rule
    (:func:`same_organisation`). Unknown (None) is not "another organisation": such a
    person is asked by DM, and a refusal is reported through the ledger.
    """
    if not home_team_id:
        return False
    same = same_organisation(
        Organisation(team_id=team_id, enterprise_id=enterprise_id),
        team_id=home_team_id,
        enterprise_id=home_enterprise_id or None,
    )
    if same is False and enterprise_id and not home_enterprise_id:
        return False  # stored before the directory kept organisations: maybe a sibling workspace
    return same is False
