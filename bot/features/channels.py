"""A project's channels as Slack sees them: the bot joins (or asks to be invited) before a channel is
linked, a report channel must be internal and the bot in it, meeting summaries are linked by permalink.

One Slack call each, made outside any transaction; problems come back as :class:`UserError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.delivery.base import DeliveryKind, JobContext
from bot.delivery.customer import channel_shared_notices
from bot.delivery.runner import Runner, job_client_factory
from bot.domain.documents import IndexedMeeting
from bot.domain.errors import N_, UserError
from bot.features.card_level import forget_channel
from bot.slack.gateway import ChannelInfo, SlackGateway
from bot.slack.services import Services

DM_REFUSAL = N_("Projects live in channels, not in direct messages. Run this in the project's channel.")


def ensure_bot_can_post(gateway: SlackGateway, channel_id: str) -> None:
    """Join a public channel; in a private one ask to be invited; never link a DM."""
    info = gateway.channel_info(channel=channel_id)
    if not isinstance(info, ChannelInfo):
        if info.error == "missing_scope":
            # With channels:read and groups:read, only DMs and group DMs are out of the bot's sight.
            raise UserError(DM_REFUSAL)
        if info.error == "channel_not_found":
            # Private channels the bot is not in are invisible to it.
            raise UserError(
                N_(
                    "I can't see this channel. Invite me first (type /invite @Aftercare), then run the command again."
                )
            )
        raise UserError(N_("I couldn't check this channel (%(error)s). Please try again."), error=info.error)
    if info.is_im:
        raise UserError(DM_REFUSAL)
    if info.is_member:
        return
    if info.is_private:
        raise UserError(
            N_(
                "This is a private channel: invite me first (type /invite @Aftercare), then run the command again."
            )
        )
    joined = gateway.join(channel=channel_id)
    if not joined.ok:
        raise UserError(
            N_("I couldn't join this channel (%(error)s). Invite me with /invite @Aftercare and try again."),
            error=joined.error,
        )


# Slack's message permalinks: https://<workspace>.slack.com/archives/<channel>/p<ts without its dot>
_PERMALINK = re.compile(r"^(?P<base>https://[^/?#]+/archives/)(?P<channel>[A-Z0-9]+)/p(?P<ts>\d+)$")
# chat.getPermalink calls one index may make before giving up on links.
_PERMALINK_TRIES = 3


def summary_links(gateway: SlackGateway, meetings: Sequence[IndexedMeeting]) -> dict[str, str]:
    """Links to the meetings' summary messages: one ``chat.getPermalink``, the rest built the same way."""
    links: dict[str, str] = {}
    base: str | None = None
    tries = 0
    for meeting in meetings:
        if not (meeting.card_channel_id and meeting.card_ts):
            continue
        compact = meeting.card_ts.replace(".", "")
        if base:
            links[meeting.key] = f"{base}{meeting.card_channel_id}/p{compact}"
            continue
        if tries >= _PERMALINK_TRIES:
            continue
        tries += 1
        link = gateway.permalink(channel=meeting.card_channel_id, ts=meeting.card_ts)
        if not link:
            continue
        links[meeting.key] = link
        match = _PERMALINK.match(link)
        if match and match["channel"] == meeting.card_channel_id and match["ts"] == compact:
            base = match["base"]
    return links


def report_channel_problem(gateway: SlackGateway, channel_id: str) -> UserError | None:
    """Why ``channel_id`` cannot take internal reports (one ``conversations.info``), or None.

    Fails closed: a channel shared (or being shared) with another organisation, or one Slack
    cannot tell about, is refused.
    """
    info = gateway.channel_info(channel=channel_id)
    if not isinstance(info, ChannelInfo):
        if info.error == "channel_not_found":
            return UserError(
                N_("I can't see that channel. Invite me to it first (type /invite @Aftercare there)."),
                field="report_channel",
            )
        return UserError(
            N_("I couldn't check that channel (%(error)s). Please try again."),
            error=info.error,
            field="report_channel",
        )
    if info.is_ext_shared or info.is_pending_ext_shared:
        return UserError(
            N_(
                "That channel is shared with another organisation. Reports are internal: choose a channel only your team is in."
            ),
            field="report_channel",
        )
    if info.is_im:
        return UserError(N_("Choose a channel, not a direct message."), field="report_channel")
    if info.is_member:
        return None
    # Reports are posted, looked for in history and uploaded there: the bot must be in it.
    if info.is_private:
        return UserError(
            N_("I can't see that channel. Invite me to it first (type /invite @Aftercare there)."),
            field="report_channel",
        )
    joined = gateway.join(channel=channel_id)  # https://docs.slack.dev/reference/methods/conversations.join
    if not joined.ok:
        return UserError(
            N_("I couldn't join this channel (%(error)s). Invite me with /invite @Aftercare and try again."),
            error=joined.error,
            field="report_channel",
        )
    return None


def channel_became_shared(services: Services, *, team_id: str, channel: str) -> None:
    """A channel was shared with another organisation: its cards stop showing service-level figures at once,
    and the owners of each project using it are told once, through the ledger, that the internal posts made
    there before are now visible to the other organisation."""
    forget_channel(services, team_id, channel)
    runner = Runner(services, job_client_factory(services), sleep=lambda _seconds: None)
    runner.run(
        [lambda session, _ctx: channel_shared_notices(session, team_id=team_id, channel=channel)],
        JobContext(now=services.now(), team_id=team_id),
        kinds=[DeliveryKind.CHANNEL_SHARED],
    )
