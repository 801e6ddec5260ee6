"""The delivery ledger at work: plan, claim, send at Slack's pace, record — never twice, never lost.

1. Planners say what is due at the job's instant (reading only).
2. Each message is claimed under its deterministic key (unique constraint), with
   the planner's ``on_claim`` in the same transaction.
3. A short lease is taken per message, so two schedulers never send the same one.
4. A message whose last attempt may have reached Slack (timeout, 5xx, a crash) is
   first looked for in the conversation's history by the key in its metadata.
5. Transient failures stay pending with backoff (or ``Retry-After``); permanent
   ones are marked failed with Slack's reason and not retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Bot
from sqlalchemy.orm import Session

from bot import ids
from bot.domain.people import locale_of
from bot.domain.permissions import project_owners
from bot.i18n import t
from bot.installations import installation_store
from bot.jobs.audience import ProjectAudience, SharedChannels, internal_targets, project_audiences
from bot.jobs.base import DeliveryKind, JobContext, Outgoing, Planner
from bot.jobs.customer import CUSTOMER_KINDS, customer_targets, customer_unreachable
from bot.services import Services
from storage import ledger, queries
from storage.models import Delivery, DeliveryStatus, Project

log = logging.getLogger("aftercare.jobs")

# Slack's answers that mean "this message will never go": marked failed, shown to owners and in `check`.
# Permanence is this explicit list only (https://api.slack.com/methods/chat.postMessage#errors).
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found", "not_in_channel", "is_archived", "account_inactive", "invalid_auth",
        "token_revoked", "tokens_revoked", "app_uninstalled", "user_not_found", "cannot_dm_bot",
        "invalid_blocks", "msg_too_long", "no_text", "restricted_action", "team_access_not_granted",
        "missing_scope", "not_authed", "user_disabled", "channel_is_archived", "ekm_access_denied",
        "invalid_metadata_format", "invalid_metadata_schema", "metadata_too_large", "too_many_attachments",
        "invalid_arguments", "not_allowed_token_type", "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel", "restricted_action_non_threadable_channel",
    }
)  # fmt: skip
# Slack's own trouble, answered as HTTP 200 ``ok: false``: the message may already be posted, so it is in
# doubt — looked for before any resend, never marked failed (https://api.slack.com/web#errors).
IN_DOUBT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)
# An error on neither list (a new one, or a proxy's HTTP 4xx): it may have been posted, so it is in doubt
# (resending blindly could double); but it is probably a refusal we do not know yet, so after this many
# attempts it is marked failed — visible to owners and `check` — rather than retried forever.
UNKNOWN_ERROR_ATTEMPTS = 5
FAILURE_NOTICE = DeliveryKind.DELIVERY_FAILED
# Waiting this long for Retry-After inside a run is fine; longer waits are left to a later run.
MAX_INLINE_WAIT = 10.0
MAX_BACKOFF = timedelta(hours=1)
# Slack allows about one message per second per channel.
CHANNEL_INTERVAL = 1.0
# conversations.history for apps outside the Marketplace (since 2025): about one call a minute per
# workspace, 15 messages a page (https://api.slack.com/apis/rate-limits; changelog 2025-05-29).
HISTORY_METHOD = "conversations.history"
HISTORY_INTERVAL = timedelta(minutes=1)
HISTORY_PAGE = 15
# A chart uploaded but not yet seen by files.info: the message waits this long before looking again.
WAIT_FOR_CHART = 5.0
# How far Slack's clock and ours may disagree, around the attempt's window.
CLOCK_SKEW = timedelta(minutes=1)

ClientFor = Callable[[str], WebClient | None]


@dataclass
class RunReport:
    planned: int = 0
    sent: int = 0
    already_sent: int = 0
    pending: int = 0
    failed: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.pending == 0 and self.failed == 0


@dataclass(frozen=True)
class Outcome:
    ts: str | None = None
    channel: str | None = None
    error: str | None = None
    permanent: bool = False
    in_doubt: bool = False
    retry_after: float | None = None
    # An error on neither list (see UNKNOWN_ERROR_ATTEMPTS).
    unknown: bool = False
    # Failed for good, but the owners were already told why (e.g. a file whose report post failed).
    quiet: bool = False


class Pacer:
    """At most one message per second per channel, through an injectable clock and sleeper."""

    def __init__(self, monotonic: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.monotonic = monotonic
        self.sleep = sleep
        self.last: dict[str, float] = {}

    def wait(self, channel: str) -> None:
        if channel in self.last:
            remaining = CHANNEL_INTERVAL - (self.monotonic() - self.last[channel])
            if remaining > 0:
                self.sleep(remaining)
        self.last[channel] = self.monotonic()


class JobClock:
    """The job's clock: ``--now`` (the run's instant) moving on as the run takes time.

    Everything the ledger decides — what is due, when to retry, backoff — is on it, so a run at
    ``--now T`` that meets an outage is retried by a run at ``--now T+1h``. What happens in Slack's
    time (the lease other processes honour, the history window, the shared call budget) is on the
    real clock (``services.now()``).
    """

    def __init__(self, start: datetime, monotonic: Callable[[], float]) -> None:
        self.start = start
        self.monotonic = monotonic
        self.origin = monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=max(self.monotonic() - self.origin, 0.0))


def _post(client: WebClient, delivery: Delivery, extra: Sequence[dict[str, Any]] = ()) -> Outcome:
    payload = delivery.payload
    try:
        response = client.api_call(
            "chat.postMessage",
            json={
                "channel": delivery.channel,
                "text": payload.get("text", ""),
                "blocks": [*(payload.get("blocks") or []), *extra],
                "unfurl_links": False,
                "unfurl_media": False,
                "metadata": {"event_type": ids.DELIVERY_EVENT_TYPE, "event_payload": {"key": delivery.key}},
                **({"thread_ts": payload["thread_ts"]} if payload.get("thread_ts") else {}),
            },
        )
    except Exception as exc:
        return failure_of(exc)
    return Outcome(ts=response.get("ts"), channel=response.get("channel"))


def failure_of(exc: Exception) -> Outcome:
    """What a failed send (a post or an upload) means for the ledger: retried, in doubt, or failed for good."""
    if not isinstance(exc, SlackApiError):  # timeouts and network errors: Slack may have done it
        return Outcome(error=f"network_error: {type(exc).__name__}", in_doubt=True)
    return _classify(exc)


def _retry_after(exc: SlackApiError) -> float | None:
    value = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _classify(exc: SlackApiError) -> Outcome:
    """What a refused ``chat.postMessage`` means for the ledger."""
    status = exc.response.status_code
    error = str(exc.response.get("error") or f"http_{status}")
    if status == 429:  # refused before doing anything: retry, nothing to look for
        return Outcome(error="ratelimited", retry_after=_retry_after(exc) or 30.0)
    if error in PERMANENT_ERRORS and status < 500:
        return Outcome(error=error, permanent=True)
    if status >= 500 or error in IN_DOUBT_ERRORS:
        return Outcome(error=error if status < 500 else f"http_{status}", in_doubt=True,
                       retry_after=_retry_after(exc))  # fmt: skip
    return Outcome(error=error, in_doubt=True, unknown=True)


def _key_of(message: dict[str, Any]) -> str | None:
    """The ledger key a message carries in its metadata (None: not one of ours)."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != ids.DELIVERY_EVENT_TYPE:
        return None
    key = (metadata.get("event_payload") or {}).get("key")
    return str(key) if key else None


def _window(delivery: Delivery) -> tuple[float, float | None]:
    """Slack's time span in which the in-doubt attempt can have landed (``oldest``, ``latest``)."""
    if delivery.attempted_at is None:  # claimed before attempts were timed: from the claim on
        return (delivery.created_at - timedelta(minutes=5)).timestamp(), None
    oldest = delivery.attempted_at - CLOCK_SKEW
    return oldest.timestamp(), (delivery.attempted_at + ledger.LEASE + CLOCK_SKEW).timestamp()


class Runner:
    def __init__(
        self,
        services: Services,
        client_for: ClientFor,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services = services
        self.client_for = client_for
        self.sleep = sleep
        self.monotonic = monotonic
        self.pacer = Pacer(monotonic, sleep)

    # -- planning ----------------------------------------------------------------------
    def plan(self, planners: Sequence[Planner], ctx: JobContext) -> list[Outgoing]:
        outgoing: list[Outgoing] = []
        with self.services.db.read() as session:
            for planner in planners:
                outgoing += planner(session, ctx)
        return outgoing

    def _audiences(self, items: Sequence[Outgoing]) -> dict[int, ProjectAudience]:
        """The audience of every project the internal posts and customer posts among ``items`` are about,
        read at once (two statements per 500 projects, not two per message)."""
        wanted = [i.report_project_id or 0 for i in items if not i.channel]
        wanted += [i.project_id or 0 for i in items if i.channel and i.shared_only]
        if not wanted:
            return {}
        with self.services.db.read() as session:
            return project_audiences(session, project_ids=wanted)

    def _audience(
        self, item: Outgoing, shared: SharedChannels, audiences: dict[int, ProjectAudience]
    ) -> list[tuple[str, str]]:
        """(key, channel) pairs of one message; an internal post goes where the audience policy says
        (:mod:`bot.jobs.audience`), a copy per owner when by DM (the key then gets ``:<owner>``)."""
        if item.channel and item.shared_only:
            return customer_targets(item, shared, audiences.get(item.project_id or 0))
        if item.channel:
            return [(item.key, item.channel)]
        audience = audiences.get(item.report_project_id or 0)
        if audience is None:
            return []
        return internal_targets(audience, shared).keyed(item.key)

    # -- running -----------------------------------------------------------------------
    def dry_run(self, planners: Sequence[Planner], ctx: JobContext) -> RunReport:
        """What would go out: reads only, claims nothing, posts nothing."""
        report = RunReport()
        items = self.plan(planners, ctx)
        dry = SharedChannels(self.services, self.client_for, dry_run=True)
        audiences = self._audiences(items)
        with self.services.db.read() as session:
            done = ledger.statuses(session, keys=[i.key for i in items])
        for item in items:
            if done.get(item.key) == DeliveryStatus.SENT:
                report.already_sent += 1
                continue
            report.planned += 1
            target = ", ".join(channel for _key, channel in self._audience(item, dry, audiences))
            report.lines.append(f"--- {item.key} → {target}\n{blocks_as_text(item.text, item.blocks)}")
        return report

    def run(
        self, planners: Sequence[Planner], ctx: JobContext, *, kinds: Sequence[str] | None = None
    ) -> RunReport:
        report = RunReport()
        clock = JobClock(ctx.now, self.monotonic)
        items = self.plan(planners, ctx)
        report.planned = len(items)
        stopped: dict[str, bool] = {}
        shared = SharedChannels(self.services, self.client_for)
        audiences = self._audiences(items)
        for item in items:
            if item.team_id not in stopped:
                stopped[item.team_id] = self._workspace_stopped(item.team_id, clock.now())
            if stopped[item.team_id]:
                continue
            for key, channel in self._audience(item, shared, audiences):
                self._claim(item, key, channel, clock.now())
        with self.services.db.read() as session:
            work = ledger.due(
                session, now=clock.now(), real_now=self.services.now(), team_id=ctx.team_id, kinds=kinds
            )
            if ctx.project_key:
                keys = {i.key for i in items}
                work = [d for d in work if any(d.key.startswith(k) for k in keys)]
            planned_keys = [i.key for i in items]
            report.already_sent = sum(
                1
                for status in ledger.statuses(session, keys=planned_keys).values()
                if status == DeliveryStatus.SENT
            )
        for delivery in work:
            self._deliver(delivery, report, clock)
        # Owners hear about posts that failed for good (claimed just now, in _record).
        with self.services.db.read() as session:
            notices = ledger.due(
                session, now=clock.now(), real_now=self.services.now(), team_id=ctx.team_id,
                kinds=[FAILURE_NOTICE],
            )  # fmt: skip
        for delivery in notices:
            self._deliver(delivery, report, clock)
        return report

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

    def _claim(self, item: Outgoing, key: str, channel: str, now: datetime) -> None:
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
        if delivery.kind == DeliveryKind.RETROSPECTIVE_FILE:
            from bot.jobs.uploads import upload  # an upload is looked up by its file id, not in history

            self._record(delivery, upload(self.services, client, delivery), report, clock)
            return
        if delivery.in_doubt:
            found = self._check(client, delivery, clock)
            if found.ts or found.permanent or found.in_doubt:
                self._record(delivery, found, report, clock)
                return
            with self.services.db.write() as session:  # looked, not there: this send is a new attempt
                ledger.mark_attempt(session, delivery_id=delivery.id, real_now=self.services.now())
        extra: list[dict[str, Any]] = []
        if delivery.payload.get("chart"):
            from bot.jobs.charts import chart_blocks  # draws with matplotlib: only when a chart is sent

            found_chart = chart_blocks(self.services, client, delivery)
            if found_chart is None:
                outcome = Outcome(error="waiting_for_chart_file", retry_after=WAIT_FOR_CHART)
                self._record(delivery, outcome, report, clock)
                return
            extra = found_chart
        outcome = self._send(client, delivery, extra)
        if extra and outcome.error == "invalid_blocks":
            # Slack refused the picture (the file is not visible to it): the message goes without it.
            log.warning("chart of %s refused by Slack (invalid_blocks); sent without it", delivery.key)
            outcome = self._send(client, delivery)
        self._record(delivery, outcome, report, clock)

    def _check(self, client: WebClient, delivery: Delivery, clock: JobClock) -> Outcome:
        """Look for an in-doubt message by the ledger key in its metadata, within Slack's limits.

        One page of ``conversations.history`` (15 messages, only the attempt's time window) per call,
        and only when the workspace's budget (about one call a minute, shared by every process through
        the database) allows; otherwise — or while more pages remain — the delivery stays in doubt and
        is deferred, never resent. ``Outcome()`` means: looked everywhere, not there, safe to send.
        """
        channel = delivery.sent_channel or delivery.channel
        try:
            if channel.startswith(("U", "W")):
                opened = client.api_call("conversations.open", json={"users": channel})
                channel = str((opened.get("channel") or {}).get("id") or channel)
        except Exception as exc:
            log.warning("could not open the DM to look for %s: %s", delivery.key, exc)
            return Outcome(error="in_doubt_unresolved", in_doubt=True)
        real_now = self.services.now()
        with self.services.db.write() as session:
            next_turn = ledger.take_budget(
                session, team_id=delivery.team_id, method=HISTORY_METHOD, now=real_now,
                interval=HISTORY_INTERVAL,
            )  # fmt: skip
        if next_turn is not None:
            wait = max((next_turn - real_now).total_seconds(), 1.0)
            return Outcome(error="in_doubt_check_waits_for_slack", in_doubt=True, retry_after=wait)
        oldest, latest = _window(delivery)
        params: dict[str, Any] = {
            "channel": channel, "oldest": f"{oldest:.6f}", "inclusive": "true",
            "limit": HISTORY_PAGE, "include_all_metadata": "true",
        }  # fmt: skip
        if latest is not None:
            params["latest"] = f"{latest:.6f}"
        if delivery.check_cursor:
            params["cursor"] = delivery.check_cursor
        method = HISTORY_METHOD
        if delivery.payload.get("thread_ts"):  # a reply is found in its thread, not in the channel's history
            method, params["ts"] = "conversations.replies", delivery.payload["thread_ts"]
        try:
            history = client.api_call(method, params=params, http_verb="GET")
        except SlackApiError as exc:
            error = str(exc.response.get("error") or f"http_{exc.response.status_code}")
            if exc.response.status_code == 429:
                wait = _retry_after(exc) or HISTORY_INTERVAL.total_seconds()
                with self.services.db.write() as session:
                    ledger.hold_budget(
                        session, team_id=delivery.team_id, method=HISTORY_METHOD,
                        until=self.services.now() + timedelta(seconds=wait),
                    )  # fmt: skip
                return Outcome(error="in_doubt_check_waits_for_slack", in_doubt=True, retry_after=wait)
            if error == "thread_not_found" and method != HISTORY_METHOD:
                return Outcome(error=error, permanent=True)  # the thread's first message is gone
            if error in PERMANENT_ERRORS:
                # It can never be checked (e.g. a missing history scope): better failed and visible than doubled.
                return Outcome(
                    error=f"cannot check whether it was sent ({error}); not resent", permanent=True
                )
            log.warning("could not look for %s in history: %s", delivery.key, error)
            return Outcome(error="in_doubt_unresolved", in_doubt=True)
        except Exception as exc:
            log.warning("could not look for %s in history: %s", delivery.key, exc)
            return Outcome(error="in_doubt_unresolved", in_doubt=True)
        messages = history.get("messages") or []
        self._settle_others(delivery, channel, messages, clock)
        for message in messages:
            if _key_of(message) == delivery.key:
                return Outcome(ts=message.get("ts"), channel=channel)
        cursor = str((history.get("response_metadata") or {}).get("next_cursor") or "")
        if history.get("has_more") and cursor:
            with self.services.db.write() as session:
                ledger.mark_checking(session, delivery_id=delivery.id, cursor=cursor)
            return Outcome(
                error="in_doubt_check_continues", in_doubt=True, retry_after=HISTORY_INTERVAL.total_seconds()
            )
        return Outcome()  # looked, not there: safe to send

    def _settle_others(
        self, delivery: Delivery, channel: str, messages: list[dict[str, Any]], clock: JobClock
    ) -> None:
        """Other in-doubt messages of the workspace found on the same page are sent: one call settles many."""
        keys = {key: str(m.get("ts")) for m in messages if (key := _key_of(m))}
        keys.pop(delivery.key, None)
        if keys:
            with self.services.db.write() as session:
                ledger.settle_found(
                    session, team_id=delivery.team_id, found=keys, channel=channel, now=clock.now()
                )

    def _send(self, client: WebClient, delivery: Delivery, extra: Sequence[dict[str, Any]] = ()) -> Outcome:
        for _ in range(3):
            self.pacer.wait(delivery.channel)
            outcome = _post(client, delivery, extra)
            if (
                outcome.retry_after is not None
                and not outcome.in_doubt  # may be posted: never resent without looking first
                and outcome.retry_after <= MAX_INLINE_WAIT
            ):
                self.sleep(outcome.retry_after)
                continue
            return outcome
        return outcome

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
                report.sent += 1
                return
            error = outcome.error or "unknown_error"
            if permanent:
                ledger.mark_failed(session, delivery_id=delivery.id, error=error, now=now)
                report.failed += 1
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
            report.pending += 1
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
            clients[token] = WebClient(token=token, base_url=settings.api_url, timeout=10, retry_handlers=[])
        return clients[token]

    return client_for
