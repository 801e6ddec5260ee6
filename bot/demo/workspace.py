"""The workspace the stand-in Slack models, and the rules Slack applies to it.

Channels (public, private, DMs, archived, shared with other organisations, who is in them) and
people (their organisation, guests, bots, deactivated accounts). :class:`Workspace` answers what
real Slack answers for the methods whose outcome depends on them; each rule cites the page that
documents it. Everything here runs under the fake's lock.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Answer = dict[str, Any]

# Slack truncates or refuses message text beyond this many characters:
# https://docs.slack.dev/reference/methods/chat.postMessage (argument `text`, error `msg_too_long`).
MAX_TEXT = 40_000
# users.list is a Tier 2 method, "20+ per minute": https://docs.slack.dev/reference/methods/users.list
# and https://docs.slack.dev/apis/web-api/rate-limits
USERS_LIST_PER_MINUTE = 20


class SlackHttpError(Exception):
    """An answer with an HTTP status other than 200 (a 429 with ``Retry-After``)."""

    def __init__(self, status: int, body: Answer, headers: dict[str, str]) -> None:
        super().__init__(body.get("error"))
        self.status = status
        self.body = body
        self.headers = headers


@dataclass
class Channel:
    """A conversation as ``conversations.info`` describes it.

    https://docs.slack.dev/reference/objects/conversation-object
    """

    id: str
    name: str = "general"
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    is_member: bool = True
    is_archived: bool = False
    is_ext_shared: bool = False
    is_pending_ext_shared: bool = False
    is_shared: bool = False
    is_org_shared: bool = False
    members: set[str] = field(default_factory=set)
    # The other person of a DM.
    user: str | None = None

    @property
    def closed(self) -> bool:
        """Private, a DM or a group DM: only its members can see it."""
        return self.is_private or self.is_im or self.is_mpim

    @property
    def hidden(self) -> bool:
        """A closed conversation the bot is not in: to the bot it does not exist (``channel_not_found``)."""
        return self.closed and not self.is_member

    def info(self) -> Answer:
        info: Answer = {
            "id": self.id,
            "is_channel": not self.closed,
            "is_group": self.is_private and not (self.is_im or self.is_mpim),
            "is_im": self.is_im,
            "is_mpim": self.is_mpim,
            "is_private": self.closed,
            "is_archived": self.is_archived,
            "is_shared": self.is_shared or self.is_ext_shared or self.is_org_shared,
            "is_ext_shared": self.is_ext_shared,
            "is_pending_ext_shared": self.is_pending_ext_shared,
            "is_org_shared": self.is_org_shared,
            "is_member": self.is_member,
        }
        if self.is_im:
            info["user"] = self.user
        else:
            info["name"] = self.name
        return info


@dataclass
class User:
    """A person (or bot) as ``users.info`` describes them: https://docs.slack.dev/reference/objects/user-object"""

    id: str
    team_id: str = "T0001"
    name: str = ""
    real_name: str = ""
    enterprise_id: str | None = None
    is_bot: bool = False
    deleted: bool = False
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    is_stranger: bool = False
    is_admin: bool = False
    # None: not set on the account (the field is left out of the answer).
    tz: str | None = None
    locale: str | None = None

    def info(self, *, include_locale: bool) -> Answer:
        user: Answer = {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name or self.id.lower(),
            "real_name": self.real_name or self.name or self.id,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "is_admin": self.is_admin,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "profile": {"real_name": self.real_name or self.id, "team": self.team_id},
        }
        if self.is_stranger:
            user["is_stranger"] = True
        if self.enterprise_id:
            # https://docs.slack.dev/reference/objects/user-object (`enterprise_user`, for Enterprise Grid)
            user["enterprise_user"] = {
                "id": self.id,
                "enterprise_id": self.enterprise_id,
                "teams": [self.team_id],
            }
        if self.tz:
            user["tz"] = self.tz
        if include_locale and self.locale:
            user["locale"] = self.locale
        return user


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true")


def _error(error: str) -> Answer:
    return {"ok": False, "error": error}


class Workspace:
    """The installing workspace: its channels and people, and the Web API rules that depend on them."""

    def __init__(
        self,
        team_id: str,
        channels: dict[str, Channel],
        scopes: Callable[[], tuple[str, ...]],
        clock: Callable[[], float],
    ) -> None:
        self.team_id = team_id
        # Workspaces the app is installed in (multi-workspace tests act in several).
        self.teams: set[str] = {team_id}
        self.enterprise_id: str | None = None
        self.channels = channels
        self.users: dict[str, User] = {}
        self._scopes = scopes
        self._clock = clock
        # users.list call times per token (one token per workspace), for the Tier 2 limit.
        self._listing: dict[str, list[float]] = {}

    # -- who is who ------------------------------------------------------------------------------
    def same_organisation(self, user: User) -> bool:
        if user.is_stranger:
            return False
        if user.team_id in self.teams:
            return True
        return self.enterprise_id is not None and user.enterprise_id == self.enterprise_id

    @staticmethod
    def dm_id(user_id: str) -> str:
        return f"D_{user_id}"

    def conversation(self, channel_id: str) -> Channel | None:
        """The conversation ``channel_id`` names (a DM with the bot is ``D_<user>``)."""
        known = self.channels.get(channel_id)
        if known is not None:
            return known
        if channel_id.startswith("D_"):
            user = self.users.get(channel_id.removeprefix("D_"))
            if user is not None and self.dm_refusal(user.id) is None:
                return Channel(id=channel_id, is_im=True, is_private=True, user=user.id, members={user.id})
        return None

    def visible(self, channel_id: str) -> Channel | None:
        """The conversation as the bot sees it: None when unknown or closed to it."""
        channel = self.conversation(channel_id)
        return None if channel is None or channel.hidden else channel

    def dm_refusal(self, user_id: str) -> str | None:
        """Why the bot cannot open a DM with ``user_id`` (None: it can).

        https://docs.slack.dev/reference/methods/conversations.open documents ``user_not_found`` and
        ``user_disabled``; a bot token asking for another bot gets ``cannot_dm_bot`` (Slack's answer quoted in
        https://github.com/HubSpot/slack-client/pull/90). A person of another organisation in a Slack Connect
        channel cannot be messaged privately by this workspace's app
        (https://docs.slack.dev/apis/slack-connect#what_to_expect): they are not found from here.
        """
        user = self.users.get(user_id)
        if user is None or not self.same_organisation(user):
            return "user_not_found"
        if user.is_bot:
            return "cannot_dm_bot"
        if user.deleted:
            return "user_disabled"
        return None

    # -- the rules -------------------------------------------------------------------------------
    def refusal(self, method: str, args: dict[str, Any], token: str) -> Answer | None:
        """Slack's error for this call in this workspace, or None when Slack would carry it out."""
        rule = _RULES.get(method)
        return rule(self, args, token) if rule else None

    def _post_target(self, channel_id: str, *, public_without_joining: bool) -> str | None:
        """Why the bot cannot post to ``channel_id`` (a channel, a DM or a user id), or None.

        https://docs.slack.dev/reference/methods/chat.postMessage: ``channel_not_found`` for an unknown channel or a
        private one the bot was not invited to (it cannot see it), ``is_archived``, ``not_in_channel`` for a public
        channel it has not joined unless the token has ``chat:write.public``
        (https://docs.slack.dev/reference/scopes/chat.write.public). A user id posts to the DM with that person.
        """
        if channel_id.startswith(("U", "W")):
            refusal = self.dm_refusal(channel_id)
            return "channel_not_found" if refusal == "user_not_found" else refusal
        channel = self.visible(channel_id)
        if channel is None:
            return "channel_not_found"
        if channel.is_archived:
            return "is_archived"
        if not channel.is_member and not (public_without_joining and "chat:write.public" in self._scopes()):
            return "not_in_channel"
        return None

    def _message(self, args: dict[str, Any], *, update: bool) -> str | None:
        if len(str(args.get("text") or "")) > MAX_TEXT:
            return "msg_too_long"
        metadata = args.get("metadata")
        if metadata is not None and metadata != "":
            return _metadata_problem(metadata, update=update)
        return None

    def post_message(self, args: dict[str, Any], _token: str) -> Answer | None:
        error = self._post_target(str(args.get("channel") or ""), public_without_joining=True)
        error = error or self._message(args, update=False)
        return _error(error) if error else None

    def update_message(self, args: dict[str, Any], _token: str) -> Answer | None:
        """https://docs.slack.dev/reference/methods/chat.update: the channel must be a conversation id (a DM's
        ``D…``, never a user id); archived → ``is_inactive``; the message must exist (``message_not_found``) and be
        the app's own (``cant_update_message``) — checked by the caller, which holds the messages."""
        channel_id = str(args.get("channel") or "")
        channel = None if channel_id.startswith(("U", "W")) else self.visible(channel_id)
        if channel is None:
            return _error("channel_not_found")
        if channel.is_archived:
            return _error("is_inactive")
        error = self._message(args, update=True)
        return _error(error) if error else None

    def post_ephemeral(self, args: dict[str, Any], _token: str) -> Answer | None:
        """https://docs.slack.dev/reference/methods/chat.postEphemeral: the recipient must be in the channel
        (``user_not_in_channel``); the channel rules are chat.postMessage's."""
        channel_id = str(args.get("channel") or "")
        error = self._post_target(channel_id, public_without_joining=True)
        if error:
            return _error(error)
        channel = self.conversation(channel_id)
        if channel is not None and str(args.get("user") or "") not in channel.members:
            return _error("user_not_in_channel")
        error = self._message(args, update=False)
        return _error(error) if error else None

    def complete_upload(self, args: dict[str, Any], _token: str) -> Answer | None:
        """https://docs.slack.dev/reference/methods/files.completeUploadExternal: ``channel_id`` must be a
        conversation id (a user id is ``invalid_arguments``, https://github.com/slackapi/bolt-js/issues/2115), an
        unknown one is ``invalid_channel``, and sharing needs real membership — ``chat:write.public`` does not
        help (``not_in_channel``, https://github.com/getnao/nao/issues/1372)."""
        channel_id = str(args.get("channel_id") or "")
        if not channel_id:
            return None
        if channel_id.startswith(("U", "W")):
            return _error("invalid_arguments")
        error = self._post_target(channel_id, public_without_joining=False)
        return _error("invalid_channel" if error == "channel_not_found" else error) if error else None

    def channel_info(self, args: dict[str, Any], _token: str) -> Answer:
        """https://docs.slack.dev/reference/methods/conversations.info: unknown ids, and private channels the bot
        is not in, are ``channel_not_found``."""
        channel = self.visible(str(args.get("channel") or ""))
        if channel is None:
            return _error("channel_not_found")
        return {"ok": True, "channel": channel.info()}

    def join(self, args: dict[str, Any], _token: str) -> Answer:
        """https://docs.slack.dev/reference/methods/conversations.join: public channels only
        (``method_not_supported_for_channel_type``), not archived ones (``is_archived``), with ``channels:join``."""
        if "channels:join" not in self._scopes():
            return {"ok": False, "error": "missing_scope", "needed": "channels:join"}
        channel = self.visible(str(args.get("channel") or ""))
        if channel is None:
            return _error("channel_not_found")
        if channel.closed:
            return _error("method_not_supported_for_channel_type")
        if channel.is_archived:
            return _error("is_archived")
        channel.is_member = True
        return {"ok": True, "channel": channel.info()}

    def open_dm(self, args: dict[str, Any], _token: str) -> Answer:
        """https://docs.slack.dev/reference/methods/conversations.open (one person: the bot's DM with them)."""
        if args.get("channel"):
            channel = self.conversation(str(args["channel"]))
            if channel is None or not channel.is_im:
                return _error("channel_not_found")
            return {"ok": True, "channel": {"id": channel.id}}
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            return _error("users_list_not_supplied")
        if len(users) > 1:
            return _error("method_not_supported_for_channel_type")  # group DMs are not modelled
        refusal = self.dm_refusal(users[0])
        if refusal:
            return _error(refusal)
        return {"ok": True, "channel": {"id": self.dm_id(users[0])}}

    def user_info(self, args: dict[str, Any], _token: str) -> Answer:
        """https://docs.slack.dev/reference/methods/users.info: anyone the workspace can see, people of other
        organisations in shared channels included, each with their own ``team_id``."""
        user = self.users.get(str(args.get("user") or ""))
        if user is None:
            return _error("user_not_found")
        return {"ok": True, "user": user.info(include_locale=_truthy(args.get("include_locale")))}

    def list_users(self, args: dict[str, Any], token: str) -> Answer:
        """https://docs.slack.dev/reference/methods/users.list: this organisation's people only (bots and
        deactivated accounts included), paged with ``cursor``/``limit`` and ``response_metadata.next_cursor``;
        Tier 2, so a burst past about 20 calls a minute is answered 429 with ``Retry-After``."""
        now = self._clock()
        recent = [t for t in self._listing.get(token, []) if now - t < 60.0]
        if len(recent) >= USERS_LIST_PER_MINUTE:
            wait = max(1, math.ceil(60.0 - (now - recent[0])))
            self._listing[token] = recent
            raise SlackHttpError(429, _error("ratelimited"), {"Retry-After": str(wait)})
        self._listing[token] = [*recent, now]
        members = [u for u in self.users.values() if self.same_organisation(u)]
        cursor = str(args.get("cursor") or "")
        try:
            start = int(base64.b64decode(cursor).decode().removeprefix("offset:")) if cursor else 0
        except ValueError:
            return _error("invalid_cursor")
        limit = int(args.get("limit") or 0) or len(members)
        page = members[start : start + limit]
        end = start + len(page)
        next_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(members) else ""
        include_locale = _truthy(args.get("include_locale"))
        return {
            "ok": True,
            "members": [u.info(include_locale=include_locale) for u in page],
            "response_metadata": {"next_cursor": next_cursor},
        }


def _metadata_problem(metadata: Any, *, update: bool) -> str | None:
    """https://docs.slack.dev/messaging/message-metadata: a JSON object with a string ``event_type`` and an object
    ``event_payload``; an empty object removes a message's metadata on chat.update."""
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            return "invalid_metadata_format"
    if update and metadata == {}:
        return None
    if not isinstance(metadata, dict):
        return "invalid_metadata_format"
    if not isinstance(metadata.get("event_type"), str) or not isinstance(metadata.get("event_payload"), dict):
        return "invalid_metadata_format"
    return None


_RULES: dict[str, Callable[[Workspace, dict[str, Any], str], Answer | None]] = {
    "chat.postMessage": Workspace.post_message,
    "chat.update": Workspace.update_message,
    "chat.postEphemeral": Workspace.post_ephemeral,
    "files.completeUploadExternal": Workspace.complete_upload,
}
# Methods the workspace answers itself (success included).
ANSWERS: dict[str, Callable[[Workspace, dict[str, Any], str], Answer]] = {
    "conversations.info": Workspace.channel_info,
    "conversations.join": Workspace.join,
    "conversations.open": Workspace.open_dm,
    "users.info": Workspace.user_info,
    "users.list": Workspace.list_users,
}
