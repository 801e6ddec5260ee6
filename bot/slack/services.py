"""What listeners and jobs need, injected through Bolt's context (``context["services"]``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.ops.settings import Settings
from bot.slack.after_ack import AfterAck, Item, Result, Write, outcome_of, write_gathered
from storage.db import Database


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Callable[[], datetime] = field(default=utc_now)
    # How listeners wait out a rate limit (tests record instead of sleeping).
    sleep: Callable[[float], None] = field(default=time.sleep)
    # Where listeners put slow work that no ack may wait for (the directory sync); None: do it in place.
    background: Executor | None = None
    # Where listeners put the work that follows their ack (records, cards, DMs, App Home redraws);
    # None: do it in place (jobs, the CLI).
    after_ack: AfterAck | None = None
    # Where listeners run once Bolt has matched them: the request's thread only acknowledges (or leaves the
    # work to ``after_ack``) and goes back to answering Slack (``bot/commands/guard.py``). None: in place.
    listeners: Executor | None = None

    def now(self) -> datetime:
        return self.clock()

    def gather(self, name: str, item: Item, write: Write[Item, Result]) -> Result:
        """``write`` ``item`` together with concurrent callers' items of the same ``name`` (one transaction for
        a burst: :meth:`AfterAck.gather`); alone where there is no post-ack queue (jobs, the CLI)."""
        if self.after_ack is None:
            return outcome_of(write_gathered(write, [item])[0])
        return self.after_ack.gather(name, item, write)

    @property
    def default_locale(self) -> str:
        return self.settings.aftercare_locale

    @property
    def default_timezone(self) -> str:
        return self.settings.aftercare_timezone
