"""The customer loop's delivery rules: customer posts, an unreachable customer, a channel that became shared.

- A customer post (the weekly customer report) carries ``shared_only``: it is claimed only when each of
  those channels counts as shared (:class:`~bot.delivery.audience.SharedChannels`, the one policy); the closing
  summary goes to the project channel whatever it is (INTERFACE.md "Where posts go").
- No silence: when a customer post fails for good because the customer cannot be reached there
  (``is_archived``, ``not_in_channel``, ``channel_not_found``), each owner is told once per channel and
  reason (ledger key ``unreachable:<team>:<project>:<channel>:<reason>:<owner>``), and ``aftercare check``
  lists the channel (:func:`unreachable_channels`).
- ``channel_shared``: the owners are told once per channel (``channel_shared:<team>:<channel>:<owner>``)
  that earlier internal posts there are now visible to the other organisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.delivery.audience import ProjectAudience, SharedChannels
from bot.delivery.base import DeliveryKind, Outgoing
from bot.domain.people import locale_of
from bot.domain.permissions import project_owners
from bot.i18n import t
from storage import ledger
from storage.models import Delivery, DeliveryStatus, Project, ProjectChannel, ProjectStatus

CUSTOMER_KINDS = frozenset({DeliveryKind.CUSTOMER_REPORT, DeliveryKind.CLOSING_SUMMARY})
# Slack's answers meaning the bot cannot reach anyone in that channel any more.
UNREACHABLE_ERRORS = frozenset({"is_archived", "channel_is_archived", "not_in_channel", "channel_not_found"})


def customer_targets(
    item: Outgoing, shared: SharedChannels, audience: ProjectAudience | None
) -> list[tuple[str, str]]:
    """(key, channel) of a customer post when every channel of ``item.shared_only`` counts as shared, else none.

    ``audience``: the project's, read with every other message's at once by the runner (no query per post).
    """
    assert item.channel is not None
    contacts = audience.customer_contacts if audience is not None else frozenset()
    if all(shared.is_shared(item.team_id, channel, contacts=contacts) for channel in item.shared_only):
        return [(item.key, item.channel)]
    return []


def customer_unreachable(session: Session, delivery: Delivery, error: str, now: datetime) -> None:
    """A customer post failed for good: each owner is told once (per channel and reason), never per post."""
    project = session.get(Project, delivery.project_id)
    if project is None:
        return
    reach = error in UNREACHABLE_ERRORS
    base = (
        f"unreachable:{delivery.team_id}:{project.key}:{delivery.channel}:{error}"
        if reach
        else f"failed:{delivery.key}"
    )
    for owner in project_owners(session, project_id=project.id):
        locale = locale_of(session, team_id=delivery.team_id, user_id=owner, default=project.locale)
        values = {"channel": delivery.channel, "key": project.key, "error": error}
        if reach:
            text = t(
                locale,
                "I can't reach the customer in <#%(channel)s> (project %(key)s): Slack said %(error)s. "
                "The customer report and the closing summary won't reach them there: unarchive the channel, "
                "invite me back, or link the project to another channel.",
                **values,
            )
        else:
            text = t(
                locale,
                "I couldn't post to the customer in <#%(channel)s> (project %(key)s): Slack said %(error)s.",
                **values,
            )
        ledger.claim(
            session, key=f"{base}:{owner}", team_id=delivery.team_id, kind=DeliveryKind.DELIVERY_FAILED,
            channel=owner, project_id=project.id, payload={"text": text, "blocks": []}, now=now,
        )  # fmt: skip


@dataclass(frozen=True)
class Unreachable:
    team_id: str
    project_key: str
    channel: str
    error: str


def unreachable_channels(session: Session, *, team_id: str | None = None) -> list[Unreachable]:
    """Channels of active projects whose latest customer post failed because nobody there can be reached."""
    query = (
        select(Delivery, Project.key)
        .join(Project, Project.id == Delivery.project_id)
        .where(Delivery.kind.in_(list(CUSTOMER_KINDS)), Project.status == ProjectStatus.ACTIVE)
        .order_by(Delivery.id)
    )
    if team_id is not None:
        query = query.where(Delivery.team_id == team_id)
    latest: dict[tuple[str, str, str], tuple[Delivery, str]] = {}
    for delivery, key in session.execute(query):
        if delivery.status in (DeliveryStatus.SENT, DeliveryStatus.FAILED):
            latest[(delivery.team_id, key, delivery.channel)] = (delivery, key)
    return [
        Unreachable(team_id=d.team_id, project_key=key, channel=d.channel, error=str(d.error))
        for d, key in latest.values()
        if d.status == DeliveryStatus.FAILED and str(d.error) in UNREACHABLE_ERRORS
    ]


def channel_shared_notices(session: Session, *, team_id: str, channel: str) -> list[Outgoing]:
    """The owners of each project using ``channel`` (project, linked or report channel), one notice each."""
    linked = select(ProjectChannel.project_id).where(
        ProjectChannel.team_id == team_id, ProjectChannel.channel_id == channel
    )
    projects: Sequence[Project] = session.scalars(
        select(Project)
        .where(
            Project.team_id == team_id,
            or_(Project.channel_id == channel, Project.report_channel_id == channel, Project.id.in_(linked)),
        )
        .order_by(Project.key)
    ).all()
    notices: dict[str, Outgoing] = {}
    for project in projects:
        for owner in project_owners(session, project_id=project.id):
            if owner in notices:
                continue
            locale = locale_of(session, team_id=team_id, user_id=owner, default=project.locale)
            text = t(
                locale,
                "<#%(channel)s> (project %(key)s) is now shared with another organisation: the internal posts "
                "I made there before (digests, risk reviews, reports) are now visible to them. From now on, "
                "internal posts go to the report channel if it is internal, else to you by DM.",
                channel=channel,
                key=project.key,
            )
            notices[owner] = Outgoing(
                key=f"{DeliveryKind.CHANNEL_SHARED}:{team_id}:{channel}:{owner}",
                team_id=team_id,
                kind=DeliveryKind.CHANNEL_SHARED,
                text=text,
                blocks=[],
                channel=owner,
                project_id=project.id,
            )
    return list(notices.values())
