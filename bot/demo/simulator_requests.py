"""Requests as Slack sends them to the app: signed, form-encoded commands, interactivity and events."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

BOT_USER_ID = "UAFTERCARE"
BOT_ID = "BAFTERCARE"


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends: ``v0=`` HMAC-SHA256 of ``v0:<timestamp>:<body>``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def command_body(*, command: str, text: str, user_id: str, channel_id: str, team_id: str,
                 response_url: str, trigger_id: str = "13345224609.738474920.8088930838d88f008e0",
                 channel_name: str = "general", enterprise_id: str | None = None,
                 is_enterprise_install: bool = False) -> str:  # fmt: skip
    """A slash-command request body as Slack sends it (form-encoded).

    In an Enterprise Grid org it also names the org (``enterprise_id``/``enterprise_name``):
    https://docs.slack.dev/interactivity/implementing-slash-commands#app_command_handling
    """
    fields = {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": "acme",
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0001",
        "is_enterprise_install": "true" if is_enterprise_install else "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    if enterprise_id:
        fields.update(enterprise_id=enterprise_id, enterprise_name="Acme Grid")
    return urlencode(fields)


def payload_body(payload: dict[str, Any]) -> str:
    """Interactivity requests carry JSON in a ``payload=`` form field."""
    return urlencode({"payload": json.dumps(payload)})


def with_enterprise(
    payload: dict[str, Any], *, enterprise_id: str, is_enterprise_install: bool = False
) -> dict[str, Any]:
    """An interactivity payload (``block_actions``, ``view_submission``, shortcuts) from an Enterprise Grid org.

    https://docs.slack.dev/reference/interaction-payloads/block_actions-payload — ``enterprise`` names the org,
    ``is_enterprise_install`` tells an org-wide install; the user carries their own ``team_id``.
    """
    return {**payload, "enterprise": {"id": enterprise_id, "name": "Acme Grid"},
            "is_enterprise_install": is_enterprise_install}  # fmt: skip


def event_body(event: dict[str, Any], *, team_id: str, event_id: str = "Ev0001", enterprise_id: str | None = None,
               is_enterprise_install: bool = False, event_time: int = 1795000000,
               source_team: str | None = None, ext_shared: bool = False) -> str:  # fmt: skip
    """An ``event_callback`` body. In a Grid org the body and its ``authorizations`` carry ``enterprise_id`` and
    ``is_enterprise_install`` (an org-wide install authorizes with ``team_id`` null):
    https://docs.slack.dev/apis/events-api/#callback-field
    """
    authorization = {
        "enterprise_id": enterprise_id,
        "team_id": None if is_enterprise_install else team_id,
        "user_id": BOT_USER_ID,
        "is_bot": True,
        "is_enterprise_install": is_enterprise_install,
    }
    body: dict[str, Any] = {
        "token": "deprecated",
        # In a Slack Connect channel the top-level team can be the other organisation's (``source_team``);
        # ``authorizations`` name the installation the event is for.
        "team_id": source_team or team_id,
        "api_app_id": "A0001",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [authorization],
        "is_ext_shared_channel": ext_shared,
    }
    if enterprise_id:
        body.update(enterprise_id=enterprise_id, is_enterprise_install=is_enterprise_install)
    return json.dumps(body)
