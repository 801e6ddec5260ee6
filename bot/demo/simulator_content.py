"""The stand-in Slack's content methods: history and replies, reactions, members, files.

A mixin of :class:`bot.demo.simulator.FakeSlack`: these answer from the messages, channels and files the
fake keeps (its ``state``), by Slack's documented rules.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.demo.simulator_requests import BOT_ID, BOT_USER_ID
from bot.demo.workspace import Workspace

if TYPE_CHECKING:
    from bot.demo.simulator import FakeSlackState

# conversations.history / .replies for apps outside the Marketplace: one call a minute, 15 messages a page.
HISTORY_INTERVAL = 60.0
HISTORY_PAGE = 15


class ContentApi:
    """History, reactions, members and files, answered from the fake's ``state``."""

    state: FakeSlackState
    workspace: Workspace
    clock: Callable[[], float]
    history_served: dict[tuple[str, str], float]
    token_teams: dict[str, str]
    _request: threading.local

    @property
    def base(self) -> str:
        raise NotImplementedError

    @staticmethod
    def conversation_of(channel: str) -> str:
        return f"D_{channel}" if channel.startswith(("U", "W")) else channel

    def _next_ts(self) -> str:
        raise NotImplementedError

    def _file_problems(self, method: str, args: dict[str, Any]) -> list[str]:
        """An image block's ``slack_file`` must be an image file the bot can see, uploaded completely
        (https://docs.slack.dev/reference/block-kit/composition-objects/slack-file-object: png, jpg, jpeg or gif;
        "the user posting these blocks must have access to this file"); otherwise Slack answers ``invalid_blocks``."""
        if method not in ("chat.postMessage", "chat.update"):
            return []
        blocks = args.get("blocks")
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks or []
        problems: list[str] = []
        with self.state.lock:
            for index, block in enumerate(blocks):
                file_id = (block.get("slack_file") or {}).get("id") if block.get("type") == "image" else None
                if file_id is None:
                    continue
                upload = self.state.files.get(str(file_id))
                if upload is None or upload.get("deleted") or not upload.get("completed"):
                    problems.append(
                        f"block {index} (image): slack_file {file_id} is not a file the bot can see"
                    )
                elif not str(upload["filename"]).lower().endswith((".png", ".jpg", ".jpeg", ".gif")):
                    problems.append(f"block {index} (image): slack_file {file_id} is not a png, jpg or gif")
        return problems

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        """Redraw a stored message: only an existing one (``message_not_found``) the app posted itself
        (``cant_update_message``): https://docs.slack.dev/reference/methods/chat.update"""
        channel, ts = str(args.get("channel", "")), str(args.get("ts", ""))
        with self.state.lock:
            message = next((m for m in self.state.history.get(channel, []) if m.get("ts") == ts), None)
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            if message.get("bot_id") != BOT_ID:
                return {"ok": False, "error": "cant_update_message"}
            if "text" in args:
                message["text"] = args.get("text")
            if "blocks" in args:
                blocks = args["blocks"]
                message["blocks"] = json.loads(blocks) if isinstance(blocks, str) else blocks
            if args.get("metadata") is not None:
                metadata = args["metadata"]
                metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
                if metadata:
                    message["metadata"] = metadata
                else:
                    message.pop("metadata", None)
            message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
            return {
                "ok": True,
                "channel": channel,
                "ts": ts,
                "text": message.get("text"),
                "message": dict(message),
            }

    def _history(self, method: str, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """``conversations.history`` / ``conversations.replies`` as Slack serves a non-Marketplace app.

        https://api.slack.com/methods/conversations.history and .../conversations.replies: the bot must be
        a member (``not_in_channel``; a private channel it is not in is ``channel_not_found``); message
        ``metadata`` only with ``include_all_metadata``; newest first (replies: oldest first) between
        ``oldest`` and ``latest`` (ends excluded unless ``inclusive``); ``next_cursor`` and ``has_more``.
        Since 2025 (https://api.slack.com/apis/rate-limits, changelog 2025-05-29 "rate limit changes for
        non-Marketplace apps"): one call a minute per method per workspace (HTTP 429 with Retry-After
        beyond) and at most 15 messages a page.
        """
        state = self.state
        token = str(getattr(self._request, "headers", {}).get("authorization", "")).removeprefix("Bearer ")
        team = self.token_teams.get(token, state.team_id)
        now = self.clock()
        with state.lock:
            last = self.history_served.get((team, method))
            if last is not None and now - last < HISTORY_INTERVAL:
                wait = max(1, int(HISTORY_INTERVAL - (now - last) + 0.999))
                return {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
            self.history_served[(team, method)] = now
        conversation = str(args.get("channel", ""))
        known = self.workspace.conversation(conversation)
        if known is None or known.hidden:
            return {"ok": False, "error": "channel_not_found"}, {}
        if not known.is_member and not known.is_im:
            return {"ok": False, "error": "not_in_channel"}, {}
        inclusive = _truthy(args.get("inclusive"))
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or now + 1)

        def within(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        with state.lock:
            messages = [dict(m) for m in state.history.get(conversation, [])]
        if method == "conversations.replies":
            parent = str(args.get("ts") or "")
            messages = [m for m in messages if parent in (m["ts"], m.get("thread_ts"))]
            if not messages:
                return {"ok": False, "error": "thread_not_found"}, {}
        else:
            # Replies stay in their thread; the channel's history shows only top-level messages.
            messages = [m for m in messages if m.get("thread_ts") in (None, m["ts"])]
            messages.reverse()
        messages = [m for m in messages if within(float(m["ts"]))]
        if not _truthy(args.get("include_all_metadata")):
            for message in messages:
                message.pop("metadata", None)
        start = (
            int(base64.b64decode(str(args["cursor"])).decode().removeprefix("offset:"))
            if args.get("cursor")
            else 0
        )
        limit = min(int(args.get("limit") or HISTORY_PAGE), HISTORY_PAGE)
        page = messages[start : start + limit]
        more = start + limit < len(messages)
        cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": cursor},
        }, {}

    def _reactions_get(self, args: dict[str, Any]) -> dict[str, Any]:
        """``reactions.get`` (https://docs.slack.dev/reference/methods/reactions.get): needs ``reactions:read``;
        ``channel`` + ``timestamp`` (or ``file``) or ``no_item_specified``; a malformed ``timestamp`` is
        ``bad_timestamp``; a channel the bot cannot see is ``channel_not_found``; an unknown (or deleted) message
        ``message_not_found``. Answers ``type: message``, the channel and the message with its ``reactions``
        and ``permalink``."""
        state = self.state
        if "reactions:read" not in state.scopes:
            return {"ok": False, "error": "missing_scope", "needed": "reactions:read",
                    "provided": ",".join(state.scopes)}  # fmt: skip
        channel, ts = str(args.get("channel") or ""), str(args.get("timestamp") or "")
        if not (channel and ts):
            return {"ok": False, "error": "file_not_found" if args.get("file") else "no_item_specified"}
        if not re.fullmatch(r"\d+\.\d+", ts):
            return {"ok": False, "error": "bad_timestamp"}
        with state.lock:
            if self.workspace.visible(channel) is None:
                return {"ok": False, "error": "channel_not_found"}
            found = next((dict(m) for m in state.history.get(channel, []) if m.get("ts") == ts), None)
        if found is None or found.get("deleted"):
            return {"ok": False, "error": "message_not_found"}
        found.pop("metadata", None)
        found["permalink"] = f"https://acme.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "type": "message", "channel": channel, "message": found}

    def add_reaction(self, channel: str, ts: str, name: str, user: str) -> None:
        """Someone reacted to a message Slack keeps (``reactions`` as ``reactions.get`` lists them)."""
        with self.state.lock:
            for message in self.state.history.get(self.conversation_of(channel), []):
                if message.get("ts") != ts:
                    continue
                reactions = message.setdefault("reactions", [])
                entry = next((r for r in reactions if r["name"] == name), None)
                if entry is None:
                    entry = {"name": name, "users": [], "count": 0}
                    reactions.append(entry)
                if user not in entry["users"]:
                    entry["users"].append(user)
                    entry["count"] += 1

    def _conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        """Member ids, paged with ``cursor``/``limit`` (an offset here).

        https://docs.slack.dev/reference/methods/conversations.members
        """
        channel_id = str(args.get("channel", ""))
        known = self.workspace.visible(channel_id)
        if known is None:
            return {"ok": False, "error": "channel_not_found"}
        if known.is_im:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        everyone = sorted(known.members)
        start = int(str(args.get("cursor") or "0"))
        limit = int(args.get("limit") or 100)
        page = everyone[start : start + limit]
        following = str(start + limit) if start + limit < len(everyone) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": following}}

    def _files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """A file uploaded here: its ``permalink`` and where it is shared; unknown ids are ``file_not_found``.

        https://docs.slack.dev/reference/methods/files.info (``files:read``)
        """
        with self.state.lock:
            upload = self.state.files.get(str(args.get("file", "")))
            # An upload never completed is not a file yet (https://docs.slack.dev/messaging/working-with-files).
            if upload is None or upload.get("deleted") or not upload.get("completed"):
                return {"ok": False, "error": "file_not_found"}
            shared_in = [upload["channel"]] if upload.get("channel") else []
            return {"ok": True, "file": {
                "id": upload["id"], "name": upload["filename"], "title": upload.get("title") or upload["filename"],
                "permalink": f"https://acme.slack.com/files/{BOT_USER_ID}/{upload['id']}/{upload['filename']}",
                "channels": [c for c in shared_in if c.startswith("C")],
                "groups": [c for c in shared_in if c.startswith("G")],
                "ims": [c for c in shared_in if c.startswith("D")],
            }}  # fmt: skip

    def _files(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """``files_upload_v2``'s three steps: an upload URL on this fake, the bytes, the completion."""
        state = self.state
        if method == "files.getUploadURLExternal":
            if "files:write" not in state.scopes:
                # https://docs.slack.dev/reference/methods/files.getUploadURLExternal (scope files:write)
                return {"ok": False, "error": "missing_scope", "needed": "files:write"}
            if not args.get("filename") or not str(args.get("length") or "").isdigit():
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{next(state.ts_counter):08d}"
            with state.lock:
                state.files[file_id] = {"id": file_id, "filename": str(args["filename"]),
                                        "length": int(args["length"]), "content": None, "channel": None}  # fmt: skip
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.base}upload/{file_id}"}
        if method == "upload":
            with state.lock:
                upload = state.files.get(str(args["_path"]).removeprefix("upload/"))
                if upload is None:
                    return {"ok": False, "error": "file_not_found"}
                upload["content"] = args["_bytes"]
            return {"ok": True}
        listed = args.get("files")
        items = json.loads(listed) if isinstance(listed, str) else (listed or [])
        share_to = str(args.get("channel_id") or "")
        known = state.channels.get(share_to)
        if known is not None and not known.is_member:
            # https://docs.slack.dev/reference/methods/files.completeUploadExternal (errors: not_in_channel)
            return {"ok": False, "error": "not_in_channel"}
        done = []
        with state.lock:
            for item in items:
                upload = state.files.get(str(item.get("id")))
                if upload is None or upload["content"] is None:
                    return {"ok": False, "error": "file_not_found"}
                upload.update(
                    completed=True,
                    title=item.get("title") or upload["filename"],
                    channel=self.conversation_of(share_to) if share_to else None,
                    initial_comment=args.get("initial_comment"),
                    permalink=f"https://acme.slack.com/files/{BOT_USER_ID}/{upload['id']}/{upload['filename']}",
                )
                done.append({"id": upload["id"], "title": upload["title"], "name": upload["filename"],
                             "permalink": upload["permalink"]})  # fmt: skip
        return {"ok": True, "files": done}


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")
