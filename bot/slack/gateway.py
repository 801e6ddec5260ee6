"""The one place that sends to Slack. Every Web API call of the listeners goes through here.

Calls never raise: they return what happened (``ok``, the ``ts``, Slack's error
code), so a listener can decide what to tell the person.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.domain.errors import N_, UserError
from bot.slack.after_ack import waiting_on_slack

log = logging.getLogger(__name__)

# -- retries of the listeners' calls -----------------------------------------------------------------
# Slack answers a call over its rate limit with HTTP 429 and ``Retry-After`` (seconds); a 429 means the
# call was not carried out, so it is safe to send again: https://docs.slack.dev/apis/web-api/rate-limits
# A 5xx or a dropped connection may come after Slack did the work, so only calls that cannot do it twice
# (reads, and redraws that replace what is there) are retried then; chat.postMessage never is.

# Longer waits than this are not made in a listener: the call fails, and the person is told.
MAX_LISTENER_WAIT = 10.0
REPEATABLE_METHODS = frozenset(
    {
        "views.publish", "views.update", "chat.update", "chat.getPermalink", "conversations.info",
        "conversations.members", "conversations.history", "conversations.replies", "reactions.get",
        "users.info", "users.list", "auth.test",
    }
)  # fmt: skip

Sleeper = Callable[[float], None]


def method_of(request: HttpRequest) -> str:
    """``chat.update`` from ``https://slack.com/api/chat.update?…``."""
    return request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) else values
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                break
    return 1.0


class _Waiting(RetryHandler):
    """Waits before the next try through an injectable sleeper (tests record instead of sleeping)."""

    sleep: Sleeper

    def wait(self, state: RetryState, response: HttpResponse | None) -> float:
        return float(self.interval_calculator.calculate_sleep_duration(state.current_attempt))

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        seconds = self.wait(state, response)
        log.debug("slack %s: trying again in %ss", method_of(request), seconds)
        self.sleep(seconds)
        state.increment_current_attempt()


class RateLimitRetry(_Waiting, RateLimitErrorRetryHandler):
    """Wait what ``Retry-After`` says, when that is short enough for a listener."""

    def __init__(
        self, *, max_retry_count: int = 2, max_wait: float = MAX_LISTENER_WAIT, sleep: Sleeper = time.sleep
    ) -> None:
        RateLimitErrorRetryHandler.__init__(self, max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.sleep = sleep

    def wait(self, state: RetryState, response: HttpResponse | None) -> float:
        return retry_after(response) if response is not None else 1.0

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429 and retry_after(response) <= self.max_wait


class _RepeatableOnly(_Waiting):
    """Retries a failure only for methods that cannot do anything twice."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return method_of(request) in REPEATABLE_METHODS and bool(
            super()._can_retry(state=state, request=request, response=response, error=error)
        )


class ServerErrorRetry(_RepeatableOnly, ServerErrorRetryHandler):
    def __init__(self, *, sleep: Sleeper = time.sleep) -> None:
        ServerErrorRetryHandler.__init__(self, max_retry_count=1)
        self.sleep = sleep


class ConnectionErrorRetry(_RepeatableOnly, ConnectionErrorRetryHandler):
    def __init__(self, *, sleep: Sleeper = time.sleep) -> None:
        ConnectionErrorRetryHandler.__init__(self, max_retry_count=1)
        self.sleep = sleep


def listener_retry_handlers(sleep: Sleeper = time.sleep) -> list[RetryHandler]:
    """The retries of the listeners' client (the job runner's client has none: its ledger decides)."""
    return [RateLimitRetry(sleep=sleep), ServerErrorRetry(sleep=sleep), ConnectionErrorRetry(sleep=sleep)]


@dataclass(frozen=True)
class Sent:
    ok: bool
    ts: str | None = None
    error: str | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    is_im: bool
    is_private: bool
    is_member: bool
    is_ext_shared: bool
    name: str | None
    # Being shared with another organisation, not yet accepted (counts as shared).
    is_pending_ext_shared: bool = False


class SlackGateway:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def _call(self, method: str, **kwargs: Any) -> Sent:
        try:
            with waiting_on_slack():
                response = self.client.api_call(method, json=kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown_error"))
            log.warning("slack %s failed: %s", method, error)
            return Sent(ok=False, error=error, data=dict(exc.response.data or {}))
        except Exception as exc:  # network errors, timeouts
            log.warning("slack %s failed: %s", method, exc)
            return Sent(ok=False, error=f"network_error: {type(exc).__name__}")
        data = dict(response.data) if isinstance(response.data, dict) else {}
        return Sent(ok=True, ts=data.get("ts"), data=data)

    def post(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Sent:
        kwargs: dict[str, Any] = {
            "channel": channel,
            "text": text,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if blocks:
            kwargs["blocks"] = blocks
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        if metadata:
            kwargs["metadata"] = metadata
        return self._call("chat.postMessage", **kwargs)

    def update(self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None = None) -> Sent:
        """Redraw a message in place."""
        return self._call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks or [])

    def post_ephemeral(
        self, *, channel: str, user: str, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> Sent:
        kwargs: dict[str, Any] = {"channel": channel, "user": user, "text": text}
        if blocks:
            kwargs["blocks"] = blocks
        return self._call("chat.postEphemeral", **kwargs)

    def dm(self, *, user: str, text: str, blocks: list[dict[str, Any]] | None = None) -> Sent:
        """A direct message is a ``chat.postMessage`` to the user id."""
        return self.post(channel=user, text=text, blocks=blocks)

    def tell_privately(self, *, channel: str | None, user: str, text: str) -> Sent:
        """Only ``user`` sees it: an ephemeral message in ``channel`` (not in a DM), else a direct message."""
        if channel and not channel.startswith("D"):
            sent = self.post_ephemeral(channel=channel, user=user, text=text)
            if sent.ok:
                return sent
        return self.dm(user=user, text=text)

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> Sent:
        return self._call("views.open", trigger_id=trigger_id, view=view)

    def open_form(self, *, trigger_id: str, view: dict[str, Any]) -> None:
        """Open a modal for the person who clicked or typed; a ``UserError`` they are told of if Slack refuses."""
        sent = self.open_view(trigger_id=trigger_id, view=view)
        if not sent.ok:
            raise UserError(N_("I couldn't open the form (%(error)s). Please try again."), error=sent.error)

    def permalink(self, *, channel: str, ts: str) -> str | None:
        try:
            response = self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except Exception as exc:
            log.warning("slack chat.getPermalink failed: %s", exc)
            return None
        link = response.get("permalink")
        return str(link) if link else None

    def file_permalink(self, *, file: str) -> str | None:
        """A file's permalink from ``files.info`` (https://docs.slack.dev/reference/methods/files.info,
        ``files:read``); None when the file is gone or Slack cannot say."""
        try:
            response = self.client.files_info(file=file)
        except Exception as exc:
            log.warning("slack files.info %s failed: %s", file, exc)
            return None
        link = (response.get("file") or {}).get("permalink")
        return str(link) if link else None

    def channel_info(self, *, channel: str) -> ChannelInfo | Sent:
        try:
            response = self.client.conversations_info(channel=channel)
        except SlackApiError as exc:
            return Sent(ok=False, error=str(exc.response.get("error", "unknown_error")))
        except Exception as exc:
            return Sent(ok=False, error=f"network_error: {type(exc).__name__}")
        info = response.get("channel") or {}
        return ChannelInfo(
            id=str(info.get("id", channel)),
            is_im=bool(info.get("is_im")) or bool(info.get("is_mpim")),
            is_private=bool(info.get("is_private")) or bool(info.get("is_group")),
            is_member=bool(info.get("is_member")),
            is_ext_shared=bool(info.get("is_ext_shared")),
            name=info.get("name"),
            is_pending_ext_shared=bool(info.get("is_pending_ext_shared")),
        )

    def join(self, *, channel: str) -> Sent:
        return self._call("conversations.join", channel=channel)

    def upload_file(
        self, *, channel: str, filename: str, content: str, title: str, initial_comment: str | None = None
    ) -> Sent:
        """Share a text file in ``channel`` (``files_upload_v2``: get an upload URL, send the bytes, complete).

        ``data`` carries Slack's answer: ``files`` (and ``file``, when one) with each file's ``id``.
        A user id is shared in the DM with that person: ``files.completeUploadExternal`` takes conversation ids
        only (https://docs.slack.dev/reference/methods/files.completeUploadExternal), so the DM is opened first.
        """
        if channel.startswith(("U", "W")):
            opened = self._call("conversations.open", users=channel)
            if not opened.ok:
                return opened
            channel = str(((opened.data or {}).get("channel") or {}).get("id") or channel)
        try:
            response = self.client.files_upload_v2(
                channel=channel,
                filename=filename,
                content=content.encode("utf-8"),
                title=title,
                initial_comment=initial_comment,
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown_error"))
            log.warning("slack files_upload_v2 failed: %s", error)
            return Sent(ok=False, error=error, data=dict(exc.response.data or {}))
        except Exception as exc:  # network errors, timeouts, a failed upload of the bytes
            log.warning("slack files_upload_v2 failed: %s", exc)
            return Sent(ok=False, error=f"upload_error: {type(exc).__name__}")
        data = dict(response.data) if isinstance(response.data, dict) else {}
        return Sent(ok=True, data=data)
