"""What Slack's answer to a send means for the ledger: sent, retried, in doubt, or failed for good."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack import ids
from storage.models import Delivery

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
# Sends run on several workers at once: a report's counts change under this lock (a report stays picklable).
_COUNTING = threading.Lock()


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

    def count(self, what: str) -> None:
        """One more ``sent``, ``pending`` or ``failed`` (safe from any worker)."""
        with _COUNTING:
            setattr(self, what, getattr(self, what) + 1)


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


def post(client: WebClient, delivery: Delivery, extra: Sequence[dict[str, Any]] = ()) -> Outcome:
    """One ``chat.postMessage`` of a delivery, its ledger key in the message's metadata."""
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


def retry_after_of(exc: SlackApiError) -> float | None:
    """Slack's ``Retry-After`` header in seconds (None: absent or unreadable)."""
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
        return Outcome(error="ratelimited", retry_after=retry_after_of(exc) or 30.0)
    if error in PERMANENT_ERRORS and status < 500:
        return Outcome(error=error, permanent=True)
    if status >= 500 or error in IN_DOUBT_ERRORS:
        return Outcome(error=error if status < 500 else f"http_{status}", in_doubt=True,
                       retry_after=retry_after_of(exc))  # fmt: skip
    return Outcome(error=error, in_doubt=True, unknown=True)
