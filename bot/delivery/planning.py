"""Planning turns: scheduler replicas split a job's planning, a chunk of projects each.

A job whose planner reads only the projects in ``ctx.projects`` (:attr:`bot.delivery.base.JobContext.projects`;
every job marked ``chunked`` in :data:`bot.jobs.JOBS`: the digest, the risk review, service levels, surveys)
is planned a chunk of projects at a time — chunk ``n`` holds the project ids
``n * PLAN_CHUNK + 1 … (n + 1) * PLAN_CHUNK``, the same chunks in every process. Before planning a
chunk, a replica takes its *planning turn*: a row of ``api_budgets`` (``plan:<job>:<n>``, for every
workspace) taken with one atomic ``UPDATE`` (:func:`storage.ledger.take_turn`). So each chunk is planned
by one replica; a replica that finds a chunk's turn taken goes on to the next, and one that finds none
left only helps send what the others claimed.

- The turn is a lease on the real clock (:data:`PLAN_LEASE`): a replica that dies mid-chunk holds it until
  the lease lapses, then the next run (its own or another replica's) plans the chunk again — what the dead
  one had claimed is in the ledger already and is planned again from it, never sent twice.
- A chunk planned is not planned again by any replica for :data:`PLANNED_HOLD` (a replica whose tick
  comes a moment later finds nothing left to plan there); anything that falls due meanwhile is planned
  at the next tick.
- The rows are reused run after run (one per chunk and job), so the table does not grow per run.
- The chunks cover every project, whatever its status: a closed project still has its closing survey's
  invitations and results to plan (a chunk of closed projects only costs its turn and one empty read).
- A message is planned under the same key, with the same text, whether its project is planned in a chunk
  or with all the others (``tests/delivery/test_chunked_jobs.py``): a restart between chunks, or a replica
  planning whole (``jobs run``) beside one planning chunks, never sends it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.slack.services import Services
from storage import ledger
from storage.models import Project

# Projects per planning chunk: 1,000 projects make 10 chunks, so two replicas get about half each.
PLAN_CHUNK = 100
# How long a replica holds a chunk's turn while planning and claiming it (then it lapses: the replica died).
PLAN_LEASE = timedelta(minutes=5)
# A chunk just planned is left alone this long (shorter than the scheduler's tick).
PLANNED_HOLD = timedelta(minutes=1)
# The turns name no one workspace: a chunk of project ids spans them all.
EVERY_WORKSPACE = "*"


@dataclass(frozen=True)
class Chunk:
    number: int
    first: int
    last: int

    @property
    def projects(self) -> tuple[int, int]:
        """The project ids this chunk plans, first and last (as ``JobContext.projects`` takes them)."""
        return (self.first, self.last)


def turn_method(job: str, chunk: Chunk) -> str:
    """The ``api_budgets`` method naming one chunk's planning turn."""
    return f"plan:{job}:{chunk.number}"


class PlanningTurns:
    """One job's planning turns, for one replica's run."""

    def __init__(self, services: Services, job: str) -> None:
        self.services = services
        self.job = job
        self.size = PLAN_CHUNK

    def chunks(self) -> list[Chunk]:
        """The chunks that hold a project, in order (every replica walks them in the same order)."""
        with self.services.db.read() as session:
            ids = session.scalars(select(Project.id))
            numbers = sorted({(project_id - 1) // self.size for project_id in ids})
        return [Chunk(n, n * self.size + 1, (n + 1) * self.size) for n in numbers]

    def take(self, chunk: Chunk) -> datetime | None:
        """This replica's turn at ``chunk``: the lease's end (the turn's token), or None when another
        replica holds it or planned the chunk a moment ago."""
        with self.services.db.write() as session:
            return ledger.take_turn(
                session, team_id=EVERY_WORKSPACE, method=turn_method(self.job, chunk), now=self.services.now(),
                lease=PLAN_LEASE,
            )  # fmt: skip

    def done(self, chunk: Chunk, token: datetime) -> None:
        """Planned and claimed: no replica plans the chunk again for :data:`PLANNED_HOLD`."""
        with self.services.db.write() as session:
            ledger.pass_turn(
                session, team_id=EVERY_WORKSPACE, method=turn_method(self.job, chunk), token=token,
                next_at=self.services.now() + PLANNED_HOLD,
            )  # fmt: skip

    def give_back(self, chunk: Chunk, token: datetime) -> None:
        """Planning failed: another replica (or the next run) may take the chunk at once."""
        with self.services.db.write() as session:
            ledger.pass_turn(
                session, team_id=EVERY_WORKSPACE, method=turn_method(self.job, chunk), token=token,
                next_at=self.services.now(),
            )  # fmt: skip
