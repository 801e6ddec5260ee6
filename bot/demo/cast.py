"""Who, where and when: the demo's people, its channels and its calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

TEAM = "T0001"
CHANNEL = "CPROJ"
CHANNEL_NAME = "acme-aftersales"
REPORT = "CREPORT"
REPORT_NAME = "acme-internal"
KEY = "ACME"

# Monday 30 November 2026, 08:00 UTC: 09:00 in Berlin, 16:00 in Shanghai.
START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    timezone: str
    title: str
    title_zh: str
    name_zh: str = ""  # the name as the person spells it in Chinese, when it has one

    def name_in(self, locale: str) -> str:
        """The person's Slack display name in the demo played in ``locale`` (one name everywhere)."""
        return self.name_zh if locale == "zh-CN" and self.name_zh else self.name


ALICE = Person("UALICE", "Alice Martin", "Europe/Berlin", "after-sales project owner", "售后项目负责人")
BOB = Person("UBOB", "Bob Keller", "Europe/Berlin", "support engineer", "支持工程师")
CHEN = Person(
    "UCHEN",
    "Chen Jing",
    "Asia/Shanghai",
    "the customer's contact, at Acme",
    "客户联系人，Acme 公司",
    name_zh="陈静",
)
PEOPLE = (ALICE, BOB, CHEN)
# Chen works for Acme: a person of another organisation in the Slack Connect channel CPROJ.
CHEN_TEAM = "T0ACME"
TEAM_PEOPLE = (ALICE, BOB)  # the people of this workspace


def say(locale: str, en: str, zh: str) -> str:
    return zh if locale == "zh-CN" else en


def day(d: int, hour: int = 8, minute: int = 0) -> datetime:
    """``d`` days after the start, at ``hour``:``minute`` UTC."""
    return datetime.combine(START.date() + timedelta(days=d), datetime.min.time(), tzinfo=UTC).replace(
        hour=hour, minute=minute
    )


def iso(d: int) -> str:
    return (START.date() + timedelta(days=d)).isoformat()
