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
from sqlalchemy.orm import Session

from bot import ids
from bot.domain.people import locale_of
from bot.domain.permissions import project_owners
from bot.i18n import t
from bot.jobs.audience import SharedChannels, internal_targets, project_audience
from bot.jobs.base import DeliveryKind, JobContext, Outgoing, Planner
from bot.services import Services
from storage import ledger
from storage.models import Delivery, DeliveryStatus, Project

log = logging.getLogger("aftercare.jobs")

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found", "not_in_channel", "is_archived", "account_inactive", "invalid_auth",
        "token_revoked", "tokens_revoked", "app_uninstalled", "user_not_found", "cannot_dm_bot",
        "invalid_blocks", "msg_too_long", "no_text", "restricted_action", "team_access_not_granted",
        "missing_scope", "not_authed", "user_disabled", "channel_is_archived", "ekm_access_denied",
    }
)  # fmt: skip
FAILURE_NOTICE = DeliveryKind.DELIVERY_FAILED
# Waiting this long for Retry-After inside a run is fine; longer waits are left to a later run.
MAX_INLINE_WAIT = 10.0
MAX_BACKOFF = timedelta(hours=1)
# Slack allows about one message per second per channel.
CHANNEL_INTERVAL = 1.0

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


def _post(client: WebClient, delivery: Delivery) -> Outcome:
    payload = delivery.payload
    try:
        response = client.api_call(
            "chat.postMessage",
            json={
                "channel": delivery.channel,
                "text": payload.get("text", ""),
                "blocks": payload.get("blocks") or [],
                "unfurl_links": False,
                "unfurl_media": False,
                "metadata": {"event_type": ids.DELIVERY_EVENT_TYPE, "event_payload": {"key": delivery.key}},
            },
        )
    except Exception as exc:
        return failure_of(exc)
    return Outcome(ts=response.get("ts"), channel=response.get("channel"))


def failure_of(exc: Exception) -> Outcome:
    """What a failed send means for the ledger: retry later, in doubt, or failed for good."""
    if not isinstance(exc, SlackApiError):  # timeouts and network errors: Slack may have done it
        return Outcome(error=f"network_error: {type(exc).__name__}", in_doubt=True)
    status = exc.response.status_code
    error = str(exc.response.get("error") or f"http_{status}")
    if status == 429 or error == "ratelimited":
        retry = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after") or "30"
        return Outcome(error="ratelimited", retry_after=float(retry))
    if status >= 500:
        return Outcome(error=f"http_{status}", in_doubt=True)
    return Outcome(error=error, permanent=error in PERMANENT_ERRORS or status < 500)


def _find_in_history(client: WebClient, delivery: Delivery) -> Outcome | None:
    """Look for an in-doubt message by the ledger key in its metadata. None: could not tell."""
    try:
        channel = delivery.sent_channel or delivery.channel
        if channel.startswith(("U", "W")):
            opened = client.api_call("conversations.open", json={"users": channel})
            channel = str((opened.get("channel") or {}).get("id") or channel)
        oldest = (delivery.created_at - timedelta(minutes=5)).timestamp()
        history = client.api_call(
            "conversations.history",
            params={
                "channel": channel,
                "oldest": f"{oldest:.6f}",
                "limit": 200,
                "include_all_metadata": "true",
            },
            http_verb="POST",
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        if error in PERMANENT_ERRORS:
            # It can never be checked (e.g. a missing history scope): better failed and visible than doubled.
            return Outcome(error=f"cannot check whether it was sent ({error}); not resent", permanent=True)
        log.warning("could not look for %s in history: %s", delivery.key, error)
        return None
    except Exception as exc:
        log.warning("could not look for %s in history: %s", delivery.key, exc)
        return None
    for message in history.get("messages") or []:
        metadata = message.get("metadata") or {}
        if (
            metadata.get("event_type") == ids.DELIVERY_EVENT_TYPE
            and (metadata.get("event_payload") or {}).get("key") == delivery.key
        ):
            return Outcome(ts=message.get("ts"), channel=channel)
    return Outcome()  # looked, not there: safe to send


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
        self.pacer = Pacer(monotonic, sleep)

    # -- planning ----------------------------------------------------------------------
    def plan(self, planners: Sequence[Planner], ctx: JobContext) -> list[Outgoing]:
        outgoing: list[Outgoing] = []
        with self.services.db.read() as session:
            for planner in planners:
                outgoing += planner(session, ctx)
        return outgoing

    def _audience(self, item: Outgoing, shared: SharedChannels) -> list[tuple[str, str]]:
        """(key, channel) pairs of one message; an internal post goes where the audience policy says
        (:mod:`bot.jobs.audience`), a copy per owner when by DM (the key then gets ``:<owner>``)."""
        if item.channel:
            return [(item.key, item.channel)]
        with self.services.db.read() as session:
            audience = project_audience(session, project_id=item.report_project_id or 0)
        if audience is None:
            return []
        return internal_targets(audience, shared).keyed(item.key)

    # -- running -----------------------------------------------------------------------
    def dry_run(self, planners: Sequence[Planner], ctx: JobContext) -> RunReport:
        """What would go out: reads only, claims nothing, posts nothing."""
        report = RunReport()
        items = self.plan(planners, ctx)
        dry = SharedChannels(self.services, self.client_for, dry_run=True)
        with self.services.db.read() as session:
            done = ledger.statuses(session, keys=[i.key for i in items])
        for item in items:
            if done.get(item.key) == DeliveryStatus.SENT:
                report.already_sent += 1
                continue
            report.planned += 1
            target = ", ".join(channel for _key, channel in self._audience(item, dry))
            report.lines.append(f"--- {item.key} → {target}\n{blocks_as_text(item.text, item.blocks)}")
        return report

    def run(
        self, planners: Sequence[Planner], ctx: JobContext, *, kinds: Sequence[str] | None = None
    ) -> RunReport:
        report = RunReport()
        items = self.plan(planners, ctx)
        report.planned = len(items)
        shared = SharedChannels(self.services, self.client_for)
        for item in items:
            if self._workspace_stopped(item.team_id):
                continue
            for key, channel in self._audience(item, shared):
                self._claim(item, key, channel)
        with self.services.db.read() as session:
            work = ledger.due(session, now=self.services.now(), team_id=ctx.team_id, kinds=kinds)
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
            self._deliver(delivery, report)
        # Owners hear about posts that failed for good (claimed just now, in _record).
        with self.services.db.read() as session:
            notices = ledger.due(
                session, now=self.services.now(), team_id=ctx.team_id, kinds=[FAILURE_NOTICE]
            )
        for delivery in notices:
            self._deliver(delivery, report)
        return report

    def _workspace_stopped(self, team_id: str) -> bool:
        with self.services.db.read() as session:
            stopped_at = ledger.uninstalled_at(session, team_id=team_id)
        if stopped_at is None:
            return False
        if self.services.settings.oauth_mode:
            # Installed again since: sending resumes.
            from bot.app import installation_store

            bot = installation_store(self.services).find_bot(enterprise_id=None, team_id=team_id)
            if bot is not None and bot.installed_at > stopped_at.timestamp():
                return False
        return True

    def _claim(self, item: Outgoing, key: str, channel: str) -> None:
        with self.services.db.write() as session:
            created = ledger.claim(
                session, key=key, team_id=item.team_id, kind=item.kind, channel=channel,
                project_id=item.project_id or item.report_project_id,
                payload={"text": item.text, "blocks": item.blocks, **({"file": item.file} if item.file else {})},
                now=self.services.now(),
            )  # fmt: skip
            if created and item.on_claim is not None:
                item.on_claim(session)

    def _deliver(self, delivery: Delivery, report: RunReport) -> None:
        now = self.services.now()
        with self.services.db.write() as session:
            if not ledger.acquire(session, delivery_id=delivery.id, now=now):
                return  # another process has it, or it is not due
            fresh = session.get(Delivery, delivery.id)
            assert fresh is not None
            session.refresh(fresh)
            delivery = fresh
            session.expunge(delivery)
        client = self.client_for(delivery.team_id)
        if client is None:
            self._record(delivery, Outcome(error="no_token_for_workspace", permanent=True), report)
            return
        if delivery.kind == DeliveryKind.RETROSPECTIVE_FILE:
            from bot.jobs.uploads import upload  # an upload is looked up by its file id, not in history

            self._record(delivery, upload(self.services, client, delivery), report)
            return
        if delivery.in_doubt:
            found = _find_in_history(client, delivery)
            if found is None:
                self._record(delivery, Outcome(error="in_doubt_unresolved", in_doubt=True), report)
                return
            if found.ts or found.permanent:
                self._record(delivery, found, report)
                return
        outcome = self._send(client, delivery)
        self._record(delivery, outcome, report)

    def _send(self, client: WebClient, delivery: Delivery) -> Outcome:
        for _ in range(3):
            self.pacer.wait(delivery.channel)
            outcome = _post(client, delivery)
            if outcome.retry_after is not None and outcome.retry_after <= MAX_INLINE_WAIT:
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
        for owner in project_owners(session, project_id=project.id):
            locale = locale_of(session, team_id=delivery.team_id, user_id=owner, default=project.locale)
            ledger.claim(
                session, key=f"failed:{delivery.key}:{owner}", team_id=delivery.team_id, kind=FAILURE_NOTICE,
                channel=owner, project_id=project.id,
                payload={"text": _failure_text(locale, delivery, error), "blocks": []}, now=now,
            )  # fmt: skip

    def _record(self, delivery: Delivery, outcome: Outcome, report: RunReport) -> None:
        now = self.services.now()
        with self.services.db.write() as session:
            if outcome.ts:
                ledger.mark_sent(
                    session, delivery_id=delivery.id, ts=outcome.ts, channel=outcome.channel, now=now
                )
                report.sent += 1
                return
            error = outcome.error or "unknown_error"
            if outcome.permanent:
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


def job_client_factory(services: Services) -> ClientFor:
    """A Web API client per workspace: the bot token, or the workspace's installation (OAuth mode)."""
    settings = services.settings
    cache: dict[str, WebClient | None] = {}

    def client_for(team_id: str) -> WebClient | None:
        if team_id in cache:
            return cache[team_id]
        token: str | None = settings.slack_bot_token
        if not token and settings.slack_client_id:
            from bot.app import installation_store

            bot = installation_store(services).find_bot(enterprise_id=None, team_id=team_id)
            token = bot.bot_token if bot else None
        # No automatic retries: a retried post after a lost answer could double; the ledger decides.
        client = (
            WebClient(token=token, base_url=settings.api_url, timeout=10, retry_handlers=[])
            if token
            else None
        )
        cache[team_id] = client
        return client

    return client_for
