"""The delivery ledger at work: plan, claim, send at Slack's pace, record — never twice, never lost.

1. Planners say what is due at the job's instant (reading only). A chunked job (the digest) is planned a
   chunk of projects at a time, each chunk by the replica holding its planning turn
   (:mod:`bot.delivery.planning`), its messages sent while the next chunk is planned.
2. Each message is claimed under its deterministic key (unique constraint), with
   the planner's ``on_claim`` in the same transaction; its audience is asked by the
   claiming replica only (:mod:`bot.delivery.claims`).
3. A short lease is taken per message, so two schedulers never send the same one.
4. A message whose last attempt may have reached Slack (timeout, 5xx, a crash) is
   first looked for in the conversation's history by the key in its metadata
   (:mod:`bot.delivery.in_doubt`).
5. Transient failures stay pending with backoff (or ``Retry-After``); permanent
   ones are marked failed with Slack's reason and not retried (:mod:`bot.delivery.outcomes`).
6. Sends run in parallel across channels, each channel paced, each workspace's 429s
   honoured by every worker (:mod:`bot.delivery.fanout`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.delivery.audience import SharedChannels
from bot.delivery.base import DeliveryKind, JobClock, JobContext, Outgoing, Planner
from bot.delivery.claims import Claimer
from bot.delivery.customer import CUSTOMER_KINDS, customer_unreachable
from bot.delivery.fanout import CHANNEL_INTERVAL, MAX_INLINE_WAIT, Pacer, Sender, fan_out
from bot.delivery.in_doubt import HISTORY_INTERVAL, HISTORY_METHOD, HISTORY_PAGE, look_for
from bot.delivery.outcomes import (
    IN_DOUBT_ERRORS,
    PERMANENT_ERRORS,
    UNKNOWN_ERROR_ATTEMPTS,
    Outcome,
    RunReport,
    failure_of,
)
from bot.delivery.planning import PlanningTurns
from bot.delivery.uploads import upload
from bot.domain.people import locale_of
from bot.domain.permissions import project_owners
from bot.i18n import t
from bot.slack.services import Services
from bot.slack.transport import KeepAliveWebClient
from storage import ledger, queries
from storage.models import Delivery, DeliveryStatus, Project

if TYPE_CHECKING:
    from slack_sdk.oauth.installation_store import Bot

__all__ = [
    "CHANNEL_INTERVAL", "HISTORY_INTERVAL", "HISTORY_METHOD", "HISTORY_PAGE", "IN_DOUBT_ERRORS",
    "MAX_INLINE_WAIT", "PERMANENT_ERRORS", "UNKNOWN_ERROR_ATTEMPTS", "ClientFor", "JobClock", "Outcome",
    "Pacer", "RunReport", "Runner", "blocks_as_text", "failure_of", "find_installation", "job_client_factory",
]  # fmt: skip

log = logging.getLogger("aftercare.jobs")

FAILURE_NOTICE = DeliveryKind.DELIVERY_FAILED
MAX_BACKOFF = timedelta(hours=1)
# A chart uploaded but not yet seen by files.info: the message waits this long before looking again.
WAIT_FOR_CHART = 5.0

ClientFor = Callable[[str], WebClient | None]


class Runner:
    def __init__(
        self,
        services: Services,
        client_for: ClientFor,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        workers: int = 1,
    ) -> None:
        self.services = services
        self.client_for = client_for
        self.sleep = sleep
        self.monotonic = monotonic
        self.sender = Sender(monotonic, sleep)
        self.pacer = self.sender.pacer
        # Sends in parallel across channels: the scheduler and ``jobs run`` use AFTERCARE_SEND_WORKERS;
        # a runner for a listener's few posts (closing, intake) sends one at a time, in order.
        self.workers = workers

    # -- planning ----------------------------------------------------------------------
    def plan(self, planners: Sequence[Planner], ctx: JobContext) -> list[Outgoing]:
        outgoing: list[Outgoing] = []
        with self.services.db.read() as session:
            for planner in planners:
                outgoing += planner(session, ctx)
        return outgoing

    # -- running -----------------------------------------------------------------------
    def dry_run(self, planners: Sequence[Planner], ctx: JobContext) -> RunReport:
        """What would go out: reads only, claims nothing, posts nothing."""
        report = RunReport()
        items = self.plan(planners, ctx)
        claimer = Claimer(self.services, SharedChannels(self.services, self.client_for, dry_run=True))
        audiences = claimer.audiences(items)
        with self.services.db.read() as session:
            done = ledger.statuses(session, keys=[i.key for i in items])
        for item in items:
            if done.get(item.key) == DeliveryStatus.SENT:
                report.already_sent += 1
                continue
            report.planned += 1
            target = ", ".join(channel for _key, channel in claimer.targets(item, audiences))
            report.lines.append(f"--- {item.key} → {target}\n{blocks_as_text(item.text, item.blocks)}")
        return report

    def run(
        self,
        planners: Sequence[Planner],
        ctx: JobContext,
        *,
        kinds: Sequence[str] | None = None,
        chunked: str | None = None,
        prepare: Callable[[JobContext], None] | None = None,
    ) -> RunReport:
        """Plan, claim and send what is due at ``ctx.now``.

        ``chunked`` (a job's name; its planners honour ``ctx.projects``): planned a chunk of projects at a
        time, each chunk only in this replica's planning turn (:mod:`bot.delivery.planning`), what is due sent
        after each chunk — so replicas split the planning as well as the sends. Not for a run scoped to a
        workspace or a project (``jobs run --team/--project``): that one plans its scope at once.
        ``prepare`` runs (outside any transaction) just before each plan with that plan's context: a chunk's
        in the chunk's planning turn, so replicas split it as they split the planning.
        """
        report = RunReport()
        clock = JobClock(ctx.now, self.monotonic)
        stopped: dict[str, bool] = {}

        def is_stopped(team_id: str) -> bool:
            if team_id not in stopped:
                stopped[team_id] = self._workspace_stopped(team_id, clock.now())
            return stopped[team_id]

        claimer = Claimer(self.services, SharedChannels(self.services, self.client_for))
        planned: set[str] = set()
        attempted: set[int] = set()

        def claim(items: list[Outgoing]) -> None:
            report.planned += len(items)
            claimer.claim_all(items, clock, is_stopped)
            planned.update(i.key for i in items)
            with self.services.db.read() as session:
                report.already_sent += sum(
                    1
                    for status in ledger.statuses(session, keys=[i.key for i in items]).values()
                    if status == DeliveryStatus.SENT
                )

        def send() -> None:
            """What is due now and not tried in this run yet (this replica's claims and the others')."""
            with self.services.db.read() as session:
                work = ledger.due(
                    session, now=clock.now(), real_now=self.services.now(), team_id=ctx.team_id, kinds=kinds
                )
            if ctx.project_key:
                work = [d for d in work if any(d.key.startswith(k) for k in planned)]
            work = [d for d in work if d.id not in attempted]
            attempted.update(d.id for d in work)
            fan_out(work, lambda delivery: self._deliver(delivery, report, clock), self.workers)

        if chunked and not ctx.team_id and not ctx.project_key:
            turns = PlanningTurns(self.services, chunked)
            # Each chunk's messages are sent (one pass at a time, on a thread of their own) while the next
            # chunk is planned: the sends wait on Slack's pace, the planning on the database and the CPU.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aftercare-pass") as passes:
                sending: list[Future[None]] = []
                for chunk in turns.chunks():
                    token = turns.take(chunk)
                    if token is None:
                        continue  # another replica plans it (or just did)
                    try:
                        claim(self._prepared_plan(planners, replace(ctx, projects=chunk.projects), prepare))
                    except BaseException:
                        turns.give_back(chunk, token)
                        raise
                    turns.done(chunk, token)
                    if not sending or sending[-1].running() or sending[-1].done():
                        sending.append(passes.submit(send))  # a pass still waiting will see this chunk too
            for future in sending:
                future.result()
        else:
            claim(self._prepared_plan(planners, ctx, prepare))
        send()
        # Owners hear about posts that failed for good (claimed just now, in _record).
        with self.services.db.read() as session:
            notices = ledger.due(
                session, now=clock.now(), real_now=self.services.now(), team_id=ctx.team_id,
                kinds=[FAILURE_NOTICE],
            )  # fmt: skip
        fan_out(notices, lambda delivery: self._deliver(delivery, report, clock), self.workers)
        return report

    def _prepared_plan(
        self, planners: Sequence[Planner], ctx: JobContext, prepare: Callable[[JobContext], None] | None
    ) -> list[Outgoing]:
        if prepare is not None:
            prepare(ctx)
        return self.plan(planners, ctx)

    def _workspace_stopped(self, team_id: str, now: datetime) -> bool:
        """Uninstalled (``app_uninstalled`` / ``tokens_revoked``) and not installed again since."""
        with self.services.db.read() as session:
            enterprise_id = queries.enterprise_of(session, team_id=team_id)
            stopped_at = ledger.uninstalled_at(session, team_id=team_id, enterprise_id=enterprise_id)
        if stopped_at is None:
            return False
        if self.services.settings.oauth_mode:
            # Installed again since (the workspace, or its whole Grid organisation): sending resumes.
            bot = find_installation(self.services, enterprise_id=enterprise_id, team_id=team_id)
            resumed = bot is not None and bot.installed_at > stopped_at.timestamp()
        else:
            # One configured token: uninstalling revoked the old one, so if SLACK_BOT_TOKEN works for
            # this workspace now, it is a new install's token and sending resumes.
            resumed = self._token_works_for(team_id)
        if not resumed:
            return True
        log.warning("workspace %s was installed again: sending resumes", team_id)
        with self.services.db.write() as session:
            ledger.mark_reinstalled(session, team_id=team_id, enterprise_id=enterprise_id, now=now)
        return False

    def _token_works_for(self, team_id: str) -> bool:
        client = self.client_for(team_id)
        if client is None:
            return False
        try:
            answer = client.auth_test()
        except Exception as exc:  # token_revoked, invalid_auth, account_inactive, Slack unreachable
            log.info("workspace %s stays stopped: auth.test says %s", team_id, exc)
            return False
        return answer.get("team_id") == team_id

    def _deliver(self, delivery: Delivery, report: RunReport, clock: JobClock) -> None:
        with self.services.db.write() as session:
            taken = ledger.acquire(
                session, delivery_id=delivery.id, now=clock.now(), real_now=self.services.now()
            )
            if not taken:
                return  # another process has it, or it is not due
            fresh = session.get(Delivery, delivery.id)
            assert fresh is not None
            session.refresh(fresh)
            delivery = fresh
            session.expunge(delivery)
        client = self.client_for(delivery.team_id)
        if client is None:
            self._record(delivery, Outcome(error="no_token_for_workspace", permanent=True), report, clock)
            return
        if delivery.kind == DeliveryKind.RETROSPECTIVE_FILE:  # looked up by its file id, not in history
            self._record(delivery, upload(self.services, client, delivery), report, clock)
            return
        if delivery.in_doubt:
            found = look_for(self.services, client, delivery, clock)
            if found.ts or found.permanent or found.in_doubt:
                self._record(delivery, found, report, clock)
                return
            with self.services.db.write() as session:  # looked, not there: this send is a new attempt
                ledger.mark_attempt(session, delivery_id=delivery.id, real_now=self.services.now())
        extra: list[dict[str, Any]] = []
        if delivery.payload.get("chart"):
            from bot.delivery.charts import chart_blocks  # draws with matplotlib: only when a chart is sent

            found_chart = chart_blocks(self.services, client, delivery)
            if found_chart is None:
                outcome = Outcome(error="waiting_for_chart_file", retry_after=WAIT_FOR_CHART)
                self._record(delivery, outcome, report, clock)
                return
            extra = found_chart
        outcome = self.sender.send(client, delivery, extra)
        if extra and outcome.error == "invalid_blocks":
            # Slack refused the picture (the file is not visible to it): the message goes without it.
            log.warning("chart of %s refused by Slack (invalid_blocks); sent without it", delivery.key)
            outcome = self.sender.send(client, delivery)
        self._record(delivery, outcome, report, clock)

    def _tell_owners(self, session: Session, delivery: Delivery, error: str, now: datetime) -> None:
        """A post to a channel failed for good: each project owner gets one DM saying why (never for DMs)."""
        if (
            delivery.kind == FAILURE_NOTICE
            or delivery.project_id is None
            or delivery.channel.startswith(("U", "W"))
        ):
            return
        project = session.get(Project, delivery.project_id)
        if project is None:
            return
        if delivery.kind in CUSTOMER_KINDS:  # the customer cannot be reached: told once per channel
            customer_unreachable(session, delivery, error, now)
            return
        for owner in project_owners(session, project_id=project.id):
            locale = locale_of(session, team_id=delivery.team_id, user_id=owner, default=project.locale)
            ledger.claim(
                session, key=f"failed:{delivery.key}:{owner}", team_id=delivery.team_id, kind=FAILURE_NOTICE,
                channel=owner, project_id=project.id,
                payload={"text": _failure_text(locale, delivery, error), "blocks": []}, now=now,
            )  # fmt: skip

    def _record(self, delivery: Delivery, outcome: Outcome, report: RunReport, clock: JobClock) -> None:
        """Store the outcome; every instant here is the job's clock (``--now``), retries included."""
        now = clock.now()
        permanent = outcome.permanent or (outcome.unknown and delivery.attempts >= UNKNOWN_ERROR_ATTEMPTS)
        with self.services.db.write() as session:
            if outcome.ts:
                ledger.mark_sent(
                    session, delivery_id=delivery.id, ts=outcome.ts, channel=outcome.channel, now=now
                )
                report.count("sent")
                return
            error = outcome.error or "unknown_error"
            if permanent:
                ledger.mark_failed(session, delivery_id=delivery.id, error=error, now=now)
                report.count("failed")
                log.error("delivery %s failed for good: %s", delivery.key, error)
                if not outcome.quiet:
                    self._tell_owners(session, delivery, error, now)
                return
            if outcome.retry_after is not None:
                retry_at = now + timedelta(seconds=outcome.retry_after)
            else:
                retry_at = now + min(timedelta(seconds=30 * 2 ** max(delivery.attempts - 1, 0)), MAX_BACKOFF)
            ledger.mark_retry(
                session,
                delivery_id=delivery.id,
                error=error,
                retry_at=retry_at,
                in_doubt=outcome.in_doubt,
                now=now,
            )
            report.count("pending")
            log.warning(
                "delivery %s stays pending (%s); next try at %s", delivery.key, error, retry_at.isoformat()
            )


def blocks_as_text(text: str, blocks: Sequence[dict[str, Any]]) -> str:
    """A message as a terminal shows it: the text of its blocks, buttons in brackets."""
    if not blocks:
        return text
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind in ("section", "header") and isinstance(block.get("text"), dict):
            lines.append(str(block["text"].get("text", "")))
        for field_ in block.get("fields") or []:
            lines.append(str(field_.get("text", "")))
        if kind == "context":
            lines += [
                str(e.get("text", ""))
                for e in block.get("elements") or []
                if isinstance(e, dict) and e.get("text")
            ]
        if kind == "actions":
            labels = [str((e.get("text") or {}).get("text", "")) for e in block.get("elements") or []]
            lines.append(" ".join(f"[{label}]" for label in labels if label))
        if kind == "divider":
            lines.append("—" * 20)
    return "\n".join(line for line in lines if line)


def _failure_text(locale: str, delivery: Delivery, error: str) -> str:
    return t(
        locale,
        "I couldn't post a %(kind)s to <#%(channel)s>: Slack said %(error)s. "
        "Invite me to the channel or choose another report channel in /project settings; I won't retry it.",
        kind=delivery.kind,
        channel=delivery.channel,
        error=error,
    )


def find_installation(services: Services, *, enterprise_id: str | None, team_id: str) -> Bot | None:
    """The installation serving a workspace: its own, or its Grid organisation's org-wide install."""
    # slack_sdk's OAuth store only when asked (OAuth mode): a bot-token process or a dry run never loads it.
    from bot.slack.installations import installation_store

    store = installation_store(services)
    bot = store.find_bot(enterprise_id=enterprise_id, team_id=team_id)
    if bot is None and enterprise_id:
        bot = store.find_bot(enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True)
    return bot


def job_client_factory(services: Services) -> ClientFor:
    """A Web API client per workspace: the bot token, or the workspace's installation (OAuth mode)."""
    settings = services.settings
    clients: dict[str, WebClient] = {}

    def client_for(team_id: str) -> WebClient | None:
        token: str | None = settings.slack_bot_token
        if not token and settings.slack_client_id:
            # Looked up every time: an installation can change (reinstalled, new token) while we run.
            with services.db.read() as session:
                enterprise_id = queries.enterprise_of(session, team_id=team_id)
            bot = find_installation(services, enterprise_id=enterprise_id, team_id=team_id)
            token = bot.bot_token if bot else None
        if not token:
            return None
        if token not in clients:
            # No automatic retries: a retried post after a lost answer could double; the ledger decides.
            clients[token] = KeepAliveWebClient(
                token=token, base_url=settings.api_url, timeout=10, retry_handlers=[]
            )
        return clients[token]

    return client_for
