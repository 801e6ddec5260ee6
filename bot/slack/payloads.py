"""Slack payloads parsed with pydantic: only the fields we use, checked on the way in."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.slack import ids


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SlashCommand(_Lenient):
    command: str
    text: str = ""
    user_id: str
    channel_id: str
    channel_name: str = ""
    team_id: str | None = None
    trigger_id: str = ""
    response_url: str = ""

    @property
    def in_direct_message(self) -> bool:
        """Run in a DM or a group DM: Slack names those ``directmessage`` and ``mpdm-…`` in ``channel_name``.

        A group DM's id may start with G like an old private channel's, so the name decides.
        https://docs.slack.dev/interactivity/implementing-slash-commands (the command's payload)
        """
        name = self.channel_name
        return self.channel_id.startswith("D") or name == "directmessage" or name.startswith("mpdm-")


class MessageRef(_Lenient):
    ts: str
    text: str = ""
    user: str | None = None
    bot_id: str | None = None
    thread_ts: str | None = None
    subtype: str | None = None
    files: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def file_names(self) -> list[str]:
        return [str(f.get("name") or f.get("title") or "file") for f in self.files]


class IdRef(_Lenient):
    id: str


class MessageShortcut(_Lenient):
    callback_id: str
    trigger_id: str
    message_ts: str | None = None
    message: MessageRef
    channel: IdRef
    user: IdRef
    response_url: str = ""

    @property
    def thread_root(self) -> str:
        """Where a reply goes: the parent thread when the message is itself a reply."""
        return self.message.thread_ts or self.message.ts


class RecordForm(_Lenient):
    """Values of the "new record" modal."""

    project_id: int | None = None
    title: str = ""
    description: str = ""
    assignee_id: str | None = None
    due_date: date | None = None
    priority: str | None = None
    kind: str | None = None
    estimate: str | None = None
    probability: int | None = None
    impact: int | None = None
    mitigation: str | None = None


def _value(values: dict[str, Any], block: str, action: str) -> Any:
    element = values.get(block, {}).get(action, {})
    kind = element.get("type")
    if kind in ("static_select", "external_select"):
        option = element.get("selected_option") or {}
        return option.get("value")
    if kind == "users_select":
        return element.get("selected_user")
    if kind == "datepicker":
        return element.get("selected_date")
    return element.get("value")


def parse_record_form(view: dict[str, Any]) -> RecordForm:
    values = view.get("state", {}).get("values", {})
    return RecordForm(
        project_id=_value(values, ids.BLOCK_PROJECT, ids.ACTION_PROJECT),
        title=_value(values, ids.BLOCK_TITLE, ids.ACTION_TITLE) or "",
        description=_value(values, ids.BLOCK_DESCRIPTION, ids.ACTION_DESCRIPTION) or "",
        assignee_id=_value(values, ids.BLOCK_ASSIGNEE, ids.ACTION_ASSIGNEE),
        due_date=_value(values, ids.BLOCK_DUE, ids.ACTION_DUE),
        priority=_value(values, ids.BLOCK_PRIORITY, ids.ACTION_PRIORITY),
        kind=_value(values, ids.BLOCK_KIND, ids.ACTION_KIND),
        estimate=_value(values, ids.BLOCK_ESTIMATE, ids.ACTION_ESTIMATE),
        probability=_value(values, ids.BLOCK_PROBABILITY, ids.ACTION_PROBABILITY),
        impact=_value(values, ids.BLOCK_IMPACT, ids.ACTION_IMPACT),
        mitigation=_value(values, ids.BLOCK_MITIGATION, ids.ACTION_MITIGATION),
    )


def metadata_of(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class Pressed:
    """A button pressed on a message, as a feature's step needs it: who, in which workspace, which button with
    which value, the request's body (the message and its container), and Bolt's ``respond`` for an
    ephemeral message."""

    team_id: str
    user_id: str
    action_id: str
    value: dict[str, Any]
    body: dict[str, Any]
    respond: Callable[..., Any]

    @property
    def container(self) -> dict[str, Any]:
        container = self.body.get("container")
        return container if isinstance(container, dict) else {}
