"""The steps of ``/req``, ``/issue``, ``/task`` and ``/risk``, each one call for its listener
(``bot/commands/records.py``): each opens its own transaction, and none holds it across a Slack call.

Once the channel's project is known, an error raised inside is noted with its language
(:func:`bot.domain.errors.speaking`), so the person is answered in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from bot.domain import lifecycle
from bot.domain.errors import UserError, speaking
from bot.domain.listing import HistoryView, RecordList, list_records, record_detail
from bot.domain.parsing import parse_record_options
from bot.domain.projects import NOT_LINKED_YET, project_for_channel
from bot.domain.records import (
    NewRecord,
    channel_project_row,
    channel_project_rows,
    prepare_record,
    store_records,
)
from bot.domain.views import ProjectView, RecordView
from bot.features.home import refresh_homes
from bot.features.record_cards import after_change, post_record_card, redraw_clicked
from bot.slack import ids
from bot.slack.after_ack import let_acks_in
from bot.slack.gateway import SlackGateway
from bot.slack.payloads import Pressed
from bot.slack.services import Services
from bot.slack.text import decode_slack_text
from storage.models import Kind, Project, Record


def _linked(project: Project | None) -> Project:
    """The channel's project, or the ``UserError`` that tells how to link one when the channel has none."""
    if project is None:
        raise UserError(NOT_LINKED_YET)
    return project


def _followed(
    services: Services, gateway: SlackGateway, user_id: str, change: lifecycle.Change
) -> lifecycle.Change:
    """A change saved, then what follows it (cards redrawn, the new assignee told, dashboards refreshed)."""
    after_change(services, gateway, change, actor=user_id)
    return change


def channel_project(services: Services, *, team_id: str, channel_id: str) -> ProjectView:
    """The channel's project (``UserError`` when the channel has none)."""
    with services.db.read() as session:
        return ProjectView.of(_linked(channel_project_row(session, team_id=team_id, channel_id=channel_id)))


def help_locale(services: Services, *, team_id: str, channel_id: str) -> str | None:
    """The language of the channel's project, if it has one."""
    with services.db.read() as session:
        project = project_for_channel(session, team_id=team_id, channel_id=channel_id)
    return project.locale if project else None


@dataclass(frozen=True)
class _NewCommand:
    """One ``/issue new …`` waiting for its record (what ``new_record`` hands to the gathering)."""

    kind: Kind
    team_id: str
    channel_id: str
    user_id: str
    rest: str


Made = tuple[ProjectView, RecordView, bool]


def new_record(
    services: Services, *, kind: Kind, team_id: str, channel_id: str, user_id: str, rest: str
) -> Made:
    """The record of a ``/issue new …``, written with those of the commands being handled at the same moment
    (one transaction for a burst: :func:`_write_new_records`). Also whether it has service-level clocks
    (``NewRecord.starts_clocks``)."""
    command = _NewCommand(kind=kind, team_id=team_id, channel_id=channel_id, user_id=user_id, rest=rest)
    return services.gather("new_records", command, partial(_write_new_records, services))


def _write_new_records(services: Services, asked: list[_NewCommand]) -> list[Made | UserError]:
    """One transaction for the records of several commands: their channels' projects looked up at once, each
    command checked (its mistakes are its own ``UserError``, found before anything is written), then one
    ``UPDATE`` for the projects' keys and one ``INSERT`` for the rows (:func:`store_records`)."""
    outcomes: list[Made | UserError | None] = [None] * len(asked)
    made: list[tuple[int, Record, Project, ProjectView, bool]] = []
    now = services.now()
    with services.db.write() as session:
        # Held until the rows are stored (prepare_record and store_records use them).
        rows = channel_project_rows(session, ((one.team_id, one.channel_id) for one in asked))
        for number, one in enumerate(asked):
            if number:
                let_acks_in()  # between two commands' work, not before the first (most gatherings are of one)
            try:
                row = _linked(rows.get((one.team_id, one.channel_id)))
                project = ProjectView.of(row)
                with speaking(project.locale):
                    options = parse_record_options(one.rest, one.kind)
                    new = NewRecord(
                        kind=one.kind,
                        title=options.title,
                        assignee_id=options.assignee_id,
                        due_text=options.due_text,
                        priority=options.priority,
                        estimate_hours=options.estimate_hours,
                        probability=options.probability,
                        impact=options.impact,
                    )
                    record = prepare_record(row, team_id=one.team_id, user_id=one.user_id, new=new, now=now)
            except UserError as error:
                outcomes[number] = error
                continue
            made.append((number, record, row, project, new.starts_clocks))
        store_records(session, [(record, row) for _, record, row, _, _ in made])
        # Still in the transaction: should anything fail from here on, nothing is saved, and the gathering's
        # retry of each command alone (``write_gathered``) cannot store a record twice.
        for number, record, row, project, clocks in made:
            outcomes[number] = (project, RecordView.of(record, row), clocks)
    if any(outcome is None for outcome in outcomes):
        raise RuntimeError("a command of the gathering got no outcome")
    return [outcome for outcome in outcomes if outcome is not None]


@dataclass(frozen=True)
class Logged:
    """A record logged from a command: where it lives, and why its card is not in the channel, if it is not."""

    project: ProjectView
    record: RecordView
    card_error: str | None


def log_record(
    services: Services,
    gateway: SlackGateway,
    *,
    kind: Kind,
    team_id: str,
    channel_id: str,
    user_id: str,
    rest: str,
) -> Logged:
    """``/issue new …``: the record stored, its card posted in the channel, the assignee told."""
    project, record, has_clocks = new_record(
        services, kind=kind, team_id=team_id, channel_id=channel_id, user_id=user_id, rest=rest
    )
    sent = post_record_card(services, gateway, record, channel=channel_id, service_level=has_clocks)
    if record.assignee_id:
        after_change(
            services, gateway, lifecycle.Change(record, newly_assigned=record.assignee_id), actor=user_id
        )
    return Logged(project, record, None if sent.ok else sent.error)


def listing(
    services: Services, *, kind: Kind, team_id: str, channel_id: str, user_id: str, scope: str
) -> tuple[ProjectView, RecordList]:
    project = channel_project(services, team_id=team_id, channel_id=channel_id)
    with speaking(project.locale), services.db.read() as session:
        return project, list_records(
            session, team_id=team_id, project_id=project.id, kind=kind, scope=scope, user_id=user_id,
            now=services.now(),
        )  # fmt: skip


def detail(
    services: Services, *, kind: Kind, team_id: str, key: str, now: datetime
) -> tuple[RecordView, list[HistoryView]]:
    with services.db.read() as session:
        return record_detail(session, team_id=team_id, key=key, kind=kind, now=now)


def assign(
    services: Services,
    gateway: SlackGateway,
    *,
    kind: Kind,
    team_id: str,
    key: str,
    assignee_id: str | None,
    user_id: str,
) -> lifecycle.Change:
    return _followed(services, gateway, user_id, lifecycle.change_once(
        services.db, team_id=team_id, key=key,
        apply=lambda session: lifecycle.assign(
            session, team_id=team_id, key=key, assignee_id=assignee_id, user_id=user_id, now=services.now(),
            kind=kind,
        ),
    ))  # fmt: skip


def set_due(
    services: Services,
    gateway: SlackGateway,
    *,
    kind: Kind,
    team_id: str,
    key: str,
    due_text: str,
    user_id: str,
) -> lifecycle.Change:
    return _followed(services, gateway, user_id, lifecycle.change_once(
        services.db, team_id=team_id, key=key,
        apply=lambda session: lifecycle.set_due(
            session, team_id=team_id, key=key, due_text=due_text, user_id=user_id, now=services.now(), kind=kind,
        ),
    ))  # fmt: skip


def comment(services: Services, *, kind: Kind, team_id: str, key: str, text: str, user_id: str) -> RecordView:
    with services.db.write() as session:
        return lifecycle.comment(
            session, team_id=team_id, key=key, text=decode_slack_text(text), user_id=user_id, now=services.now(),
            kind=kind,
        )  # fmt: skip


def delete(
    services: Services, gateway: SlackGateway, *, kind: Kind, team_id: str, key: str, user_id: str
) -> lifecycle.Change:
    return _followed(services, gateway, user_id, lifecycle.change_once(
        services.db, team_id=team_id, key=key,
        apply=lambda session: lifecycle.delete(
            session, team_id=team_id, key=key, user_id=user_id, now=services.now(), kind=kind
        ),
    ))  # fmt: skip


def move(
    services: Services,
    gateway: SlackGateway,
    *,
    kind: Kind,
    team_id: str,
    key: str,
    verb: str,
    user_id: str,
    remainder: str,
) -> lifecycle.Change:
    """A status move by its verb; a risk's ``mitigate`` with text also stores that text as its plan."""

    def apply(session: Session) -> lifecycle.Change:
        change = lifecycle.move(
            session, team_id=team_id, key=key, verb=verb, user_id=user_id, now=services.now(), kind=kind
        )
        if kind is Kind.RISK and verb == "mitigate" and remainder:
            change = lifecycle.set_mitigation(
                session, team_id=team_id, key=key, plan=decode_slack_text(remainder), user_id=user_id,
                now=services.now(), previous=change,
            )  # fmt: skip
        return change

    return _followed(
        services, gateway, user_id, lifecycle.change_once(services.db, team_id=team_id, key=key, apply=apply)
    )


def card_button(
    services: Services, *, team_id: str, user_id: str, action_id: str, value: dict[str, Any]
) -> lifecycle.Change:
    """A record card's "Assign to me", "Close" or status move, once, at the version the card was drawn at."""
    key, version = value["key"], value.get("v")
    now = services.now()

    def apply(session: Session) -> lifecycle.Change:
        if action_id == ids.ACTION_CARD_ASSIGN_ME:
            return lifecycle.assign(
                session, team_id=team_id, key=key, assignee_id=user_id, user_id=user_id, now=now,
                expected_version=version, taking=True,
            )  # fmt: skip
        verb = "close" if action_id == ids.ACTION_CARD_CLOSE else str(value.get("verb", ""))
        return lifecycle.move(
            session, team_id=team_id, key=key, verb=verb, user_id=user_id, now=now, expected_version=version
        )

    return lifecycle.change_once(services.db, team_id=team_id, key=key, apply=apply)


def press_card_button(services: Services, gateway: SlackGateway, pressed: Pressed) -> lifecycle.Change:
    """A card button pressed: the move made once, what follows it, and the clicked message redrawn; a stale
    button in App Home redraws the clicker's dashboard from current data."""
    change = card_button(
        services,
        team_id=pressed.team_id,
        user_id=pressed.user_id,
        action_id=pressed.action_id,
        value=pressed.value,
    )
    after_change(services, gateway, change, actor=pressed.user_id)
    redraw_clicked(services, gateway, change, pressed.container, pressed.respond)
    if change.stale and pressed.container.get("type") == "view":
        refresh_homes(services, gateway.client, pressed.team_id, [pressed.user_id])
    return change


def restore(
    services: Services, gateway: SlackGateway, *, team_id: str, key: str, user_id: str
) -> lifecycle.Change:
    """The Undo of a delete."""
    return _followed(services, gateway, user_id, lifecycle.change_once(
        services.db, team_id=team_id, key=key,
        apply=lambda session: lifecycle.restore(session, team_id=team_id, key=key, user_id=user_id, now=services.now()),
    ))  # fmt: skip
