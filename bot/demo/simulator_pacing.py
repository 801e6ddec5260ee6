"""The stand-in Slack's pace for ``chat.postMessage``, strict as Slack's: a channel, and a workspace.

https://docs.slack.dev/reference/methods/chat.postMessage#rate_limiting: "generally allows an app to post
1 message per second to a specific channel, with limits for bursts"; beyond that, and beyond the
workspace's budget (https://docs.slack.dev/apis/web-api/rate-limits), HTTP 429 with ``Retry-After``.
Off unless asked (:meth:`bot.demo.simulator.FakeSlack.pace`); every accepted post's instant is recorded, by
the fake's clock, so tests can see which posts overlapped.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Posted:
    """One accepted ``chat.postMessage``: where, and when by the fake's clock."""

    team_id: str
    channel: str
    at: float


class SlackPace:
    """Refuses a post within ``channel_interval`` of the channel's last one, or beyond ``workspace_rate``
    posts in any one second of the workspace; records every post it lets through."""

    def __init__(self, clock: Callable[[], float], *, channel_interval: float, workspace_rate: float) -> None:
        self.clock = clock
        self.channel_interval = channel_interval
        self.workspace_rate = workspace_rate
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], float] = {}
        self._second: dict[str, deque[float]] = {}
        self.posted: list[Posted] = []
        self.refused: Counter[str] = Counter()

    def admit(self, team_id: str, channel: str) -> int | None:
        """None: the post goes now (recorded); otherwise the ``Retry-After`` seconds of a 429."""
        with self._lock:
            now = self.clock()
            last = self._last.get((team_id, channel))
            if last is not None and now - last < self.channel_interval:
                self.refused["channel"] += 1
                return max(1, math.ceil(self.channel_interval - (now - last)))
            window = self._second.setdefault(team_id, deque())
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= self.workspace_rate:
                self.refused["workspace"] += 1
                return max(1, math.ceil(1.0 - (now - window[0])))
            self._last[(team_id, channel)] = now
            window.append(now)
            self.posted.append(Posted(team_id, channel, now))
            return None
