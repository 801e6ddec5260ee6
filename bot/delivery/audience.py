"""Where internal posts go: the one audience policy (docs/INTERFACE.md "Where posts go"), for every job and closing.

A channel counts as *shared* — internal posts stay out of it — when

- ``conversations.info`` says ``is_ext_shared`` or ``is_pending_ext_shared`` (or it is a DM), or
- someone not internal by the one rule (:mod:`bot.domain.customers`: a guest, a person of another
  organisation — a sibling workspace of the same Enterprise Grid organisation is not another — or one of the
  project's customer contacts) is among its members (``conversations.members``, paged), or
- Slack cannot answer any of this (``ratelimited``, ``internal_error``, ``channel_not_found``, a timeout…):
  it fails closed.

An internal post (digest, risk review, survey results, retrospective…) then goes to the report channel
when one is set and it is internal, else — with no report channel — to the project channel when it is
internal, else to each owner by DM. A dry run makes no Slack call and treats every channel as shared.

Slack's pages: https://docs.slack.dev/reference/objects/conversation-object (the ``is_*`` flags),
https://docs.slack.dev/reference/methods/conversations.members (paged member ids; ``channels:read`` /
``groups:read``), https://docs.slack.dev/reference/methods/users.info (``is_restricted``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.customers import Organisation, internal_by_directory, internal_by_slack
from bot.slack.directory import store_members
from bot.slack.services import Services
from storage import queries
from storage.models import MemberRole, Person, Project

log = logging.getLogger(__name__)

MEMBERS_PAGE = 200  # Slack recommends no more than 200 a page
MAX_MEMBER_PAGES = 50  # a cursor that never ends is a failure (fails closed)


@dataclass(frozen=True)
class ProjectAudience:
    """What the policy needs to know of a project (read in one short transaction)."""

    team_id: str
    project_id: int
    channel_id: str | None
    report_channel_id: str | None
    owners: tuple[str, ...]
    customer_contacts: frozenset[str]


def project_audience(session: Session, *, project_id: int) -> ProjectAudience | None:
    project = session.get(Project, project_id)
    if project is None:
        return None
    members = queries.members(session, project_ids=[project.id])
    return ProjectAudience(
        team_id=project.team_id,
        project_id=project.id,
        channel_id=project.channel_id,
        report_channel_id=project.report_channel_id,
        owners=tuple(sorted(m.user_id for m in members if m.role == MemberRole.OWNER)),
        customer_contacts=frozenset(m.user_id for m in members if m.role == MemberRole.CUSTOMER_CONTACT),
    )


def project_audiences(session: Session, *, project_ids: Iterable[int]) -> dict[int, ProjectAudience]:
    """:func:`project_audience` of many projects in two statements per 500 (a job's whole run at once)."""
    wanted = sorted(set(project_ids))
    found: dict[int, ProjectAudience] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        projects = session.scalars(select(Project).where(Project.id.in_(chunk))).all()
        by_project: dict[int, list[Any]] = {p.id: [] for p in projects}
        for member in queries.members(session, project_ids=chunk):
            by_project.setdefault(member.project_id, []).append(member)
        for project in projects:
            members = by_project[project.id]
            found[project.id] = ProjectAudience(
                team_id=project.team_id,
                project_id=project.id,
                channel_id=project.channel_id,
                report_channel_id=project.report_channel_id,
                owners=tuple(sorted(m.user_id for m in members if m.role == MemberRole.OWNER)),
                customer_contacts=frozenset(
                    m.user_id for m in members if m.role == MemberRole.CUSTOMER_CONTACT
                ),
            )
    return found


@dataclass(frozen=True)
class _Conversation:
    """What Slack said of a channel: shared by its own flags, and its member ids (None: could not tell)."""

    flagged: bool
    members: frozenset[str] | None


class SharedChannels:
    """Answers "is this channel shared?", asking Slack at most once per channel for one run.

    ``client_for(team_id)`` gives the workspace's Web API client (None: no token, so shared).
    """

    def __init__(
        self, services: Services, client_for: Callable[[str], WebClient | None], *, dry_run: bool = False
    ) -> None:
        self.services = services
        self.client_for = client_for
        self.dry_run = dry_run
        self._conversations: dict[tuple[str, str], _Conversation] = {}
        self._guests: dict[tuple[str, str], bool] = {}
        self._organisations: dict[str, Organisation] = {}

    def is_shared(self, team_id: str, channel: str, *, contacts: Iterable[str] = ()) -> bool:
        if self.dry_run:
            return True
        client = self.client_for(team_id)
        if client is None:
            return True
        key = (team_id, channel)
        if key not in self._conversations:
            self._conversations[key] = _conversation(client, channel)
        conversation = self._conversations[key]
        if conversation.flagged or conversation.members is None:
            return True
        members = conversation.members
        if members & set(contacts):
            return True
        return self._any_guest(client, team_id, members)

    def _any_guest(self, client: WebClient, team_id: str, members: frozenset[str]) -> bool:
        """Whether anyone among ``members`` is not internal by the one rule (:mod:`bot.domain.customers`):
        guests and people of another organisation; a colleague of a sibling workspace of the same Enterprise
        Grid organisation is internal. The directory answers first; Slack is asked about the rest."""
        org = self._organisation(team_id)
        unknown = [m for m in members if (team_id, m) not in self._guests]
        if unknown:
            with self.services.db.read() as session:
                people = session.scalars(
                    select(Person).where(Person.team_id == team_id, Person.user_id.in_(unknown))
                ).all()
                verdicts = {p.user_id: internal_by_directory(org, p) for p in people}
            for user_id, internal in verdicts.items():
                if internal is not None:
                    self._guests[(team_id, user_id)] = not internal
        for user_id in sorted(members):
            if (team_id, user_id) not in self._guests:
                self._guests[(team_id, user_id)] = self._ask_guest(client, org, user_id)
            if self._guests[(team_id, user_id)]:
                return True
        return False

    def _organisation(self, team_id: str) -> Organisation:
        if team_id not in self._organisations:
            with self.services.db.read() as session:
                enterprise = queries.enterprise_of(session, team_id=team_id)
            self._organisations[team_id] = Organisation(team_id=team_id, enterprise_id=enterprise)
        return self._organisations[team_id]

    def _ask_guest(self, client: WebClient, org: Organisation, user_id: str) -> bool:
        """True (counts as shared) unless Slack says the person is internal; no answer fails closed."""
        try:
            user = dict(client.users_info(user=user_id).get("user") or {})
        except Exception as exc:
            log.warning("users.info %s failed (%s): counting the channel as shared", user_id, exc)
            return True
        try:  # the directory keeps what Slack said
            store_members(self.services, org.team_id, [user])
        except Exception:
            log.exception("could not cache %s in the directory", user_id)
        return internal_by_slack(org, user) is not True


def _conversation(client: WebClient, channel: str) -> _Conversation:
    try:
        info: dict[str, Any] = dict(client.conversations_info(channel=channel).get("channel") or {})
    except Exception as exc:
        log.warning("conversations.info %s failed (%s): counting it as shared", channel, exc)
        return _Conversation(flagged=True, members=None)
    if (
        info.get("is_ext_shared")
        or info.get("is_pending_ext_shared")
        or info.get("is_im")
        or info.get("is_mpim")
    ):
        return _Conversation(flagged=True, members=None)
    return _Conversation(flagged=False, members=_members(client, channel))


def _members(client: WebClient, channel: str) -> frozenset[str] | None:
    found: set[str] = set()
    cursor: str | None = None
    for _ in range(MAX_MEMBER_PAGES):
        try:
            params: dict[str, Any] = {"channel": channel, "limit": MEMBERS_PAGE}
            if cursor:
                params["cursor"] = cursor
            page = client.conversations_members(**params)
        except Exception as exc:
            log.warning("conversations.members %s failed (%s): counting it as shared", channel, exc)
            return None
        found.update(str(m) for m in page.get("members") or [])
        cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            return frozenset(found)
    return None


@dataclass(frozen=True)
class Targets:
    """Where one internal post goes: an internal ``channel``, or (None) each owner by DM."""

    channel: str | None
    owners: tuple[str, ...]
    # A report channel is set but counts as shared, so it was passed over.
    report_refused: bool = False

    def keyed(self, key: str) -> list[tuple[str, str]]:
        """(ledger key, channel or user id) per copy; a DM copy's key ends with ``:<owner>``."""
        if self.channel:
            return [(key, self.channel)]
        return [(f"{key}:{owner}", owner) for owner in self.owners]


def internal_targets(audience: ProjectAudience, shared: SharedChannels) -> Targets:
    contacts = audience.customer_contacts
    report, channel = audience.report_channel_id, audience.channel_id
    if report:
        if not shared.is_shared(audience.team_id, report, contacts=contacts):
            return Targets(channel=report, owners=audience.owners)
        log.warning(
            "report channel %s of project %s counts as shared: to the owners", report, audience.project_id
        )
        return Targets(channel=None, owners=audience.owners, report_refused=True)
    if channel and not shared.is_shared(audience.team_id, channel, contacts=contacts):
        return Targets(channel=channel, owners=audience.owners)
    return Targets(channel=None, owners=audience.owners)
