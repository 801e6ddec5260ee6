"""Claiming what a run planned: each message under its key, its audience asked only by the claiming replica.

An internal or customer post goes where the audience policy says (:mod:`bot.delivery.audience`), which asks
Slack (``conversations.info``, ``conversations.members``). Several scheduler replicas plan the same run;
so that they split this work instead of each asking about every channel, a replica first takes the
project's *audience turn* — a row of ``api_budgets`` taken with one atomic ``UPDATE``, as the history
budget is — and only then asks Slack and claims that project's messages. A replica that finds the turn
taken leaves those messages to the one holding it; a message already in the ledger is not asked about
again (one that went to the owners by DM is: its copies' keys end with ``:<owner>``). Turns are given
back — their rows deleted — when the replica's claiming is done (a crashed replica's lapse after
:data:`AUDIENCE_TURN`, and are deleted by the next give-back; the next tick claims what it left).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.delivery.audience import ProjectAudience, SharedChannels, internal_targets, project_audiences
from bot.delivery.base import JobClock, Outgoing
from bot.delivery.customer import customer_targets
from bot.slack.services import Services
from storage import ledger

AUDIENCE_TURN = ledger.LEASE
TURN_PREFIX = "audience:"


def turn_method(project_id: int) -> str:
    """The ``api_budgets`` method naming one project's audience turn."""
    return f"{TURN_PREFIX}{project_id}"


def project_of(item: Outgoing) -> int | None:
    """The project whose audience decides where ``item`` goes (None: a plain post, or no project)."""
    if item.channel and not item.shared_only:
        return None
    return item.report_project_id or item.project_id


class Claimer:
    def __init__(self, services: Services, shared: SharedChannels) -> None:
        self.services = services
        self.shared = shared

    # -- where each message goes ---------------------------------------------------------
    def audiences(self, items: Sequence[Outgoing]) -> dict[int, ProjectAudience]:
        """The audience of every project the internal posts and customer posts among ``items`` are about,
        read at once (two statements per 500 projects, not two per message)."""
        wanted = [i.report_project_id or 0 for i in items if not i.channel]
        wanted += [i.project_id or 0 for i in items if i.channel and i.shared_only]
        if not wanted:
            return {}
        with self.services.db.read() as session:
            return project_audiences(session, project_ids=wanted)

    def targets(self, item: Outgoing, audiences: dict[int, ProjectAudience]) -> list[tuple[str, str]]:
        """(key, channel) pairs of one message; an internal post goes where the audience policy says
        (:mod:`bot.delivery.audience`), a copy per owner when by DM (the key then gets ``:<owner>``)."""
        if item.channel and item.shared_only:
            return customer_targets(item, self.shared, audiences.get(item.project_id or 0))
        if item.channel:
            return [(item.key, item.channel)]
        audience = audiences.get(item.report_project_id or 0)
        if audience is None:
            return []
        return internal_targets(audience, self.shared).keyed(item.key)

    # -- claiming ------------------------------------------------------------------------
    def claim_all(self, items: Sequence[Outgoing], clock: JobClock, stopped: Callable[[str], bool]) -> None:
        """Claim every message of ``items`` not claimed yet whose project's audience turn this replica gets."""
        audiences = self.audiences(items)
        by_project: dict[int, list[Outgoing]] = {}
        for item in items:
            project = project_of(item)
            if project is not None:
                by_project.setdefault(project, []).append(item)
        held = self._held([i for group in by_project.values() for i in group])
        turns: dict[int, bool] = {}
        taken: list[tuple[str, str, datetime]] = []
        try:
            for item in items:
                if stopped(item.team_id):
                    continue
                if item.channel and not item.shared_only:  # a plain post: Slack is not asked
                    self.claim(item, item.key, item.channel, clock.now())
                    continue
                project = project_of(item)
                if project is None:  # no project to take a turn on: asked here, as before
                    for key, channel in self.targets(item, audiences):
                        self.claim(item, key, channel, clock.now())
                    continue
                if item.key in held:
                    continue
                if project not in turns:
                    token = self._take_turn(item.team_id, project)
                    turns[project] = token is not None
                    if token is not None:
                        taken.append((item.team_id, turn_method(project), token))
                        # Another replica may have claimed them since the first look, and given the turn back.
                        held |= self._held(by_project[project])
                if not turns[project] or item.key in held:
                    continue  # the replica holding the turn claims it
                for key, channel in self.targets(item, audiences):
                    self.claim(item, key, channel, clock.now())
        finally:
            self._give_back(taken)

    def claim(self, item: Outgoing, key: str, channel: str, now: datetime) -> None:
        with self.services.db.write() as session:
            created = ledger.claim(
                session, key=key, team_id=item.team_id, kind=item.kind, channel=channel,
                project_id=item.project_id or item.report_project_id,
                payload={
                    "text": item.text, "blocks": item.blocks,
                    **({"file": item.file} if item.file else {}), **({"chart": item.chart} if item.chart else {}),
                    **({"thread_ts": item.thread_ts} if item.thread_ts else {}),
                },
                now=now,
            )  # fmt: skip
            if created and item.on_claim is not None:
                item.on_claim(session)

    def _held(self, items: Sequence[Outgoing]) -> set[str]:
        """Which of ``items`` the ledger holds already (a DM copy's key differs, so it is asked again)."""
        if not items:
            return set()
        with self.services.db.read() as session:
            return set(ledger.statuses(session, keys=[item.key for item in items]))

    def _take_turn(self, team_id: str, project_id: int) -> datetime | None:
        with self.services.db.write() as session:
            return ledger.take_turn(
                session, team_id=team_id, method=turn_method(project_id), now=self.services.now(),
                lease=AUDIENCE_TURN,
            )  # fmt: skip

    def _give_back(self, taken: Sequence[tuple[str, str, datetime]]) -> None:
        """The turns' rows are deleted (and any lapsed ones): the next replica may take them at once."""
        if not taken:
            return
        with self.services.db.write() as session:
            ledger.drop_turns(session, held=taken, prefix=TURN_PREFIX, now=self.services.now())
