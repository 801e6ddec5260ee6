"""Weeks 1 to 3: the work goes on, the scheduler's jobs run as the clock moves."""

from __future__ import annotations

from bot import ids
from bot.demo.cast import ALICE, BOB, CHEN, KEY, REPORT, day, say
from bot.demo.driver import Driver, blocks_of, button


def play(driver: Driver, locale: str) -> None:
    """Weeks 1 to 3: the work goes on, the scheduler's jobs run as the clock moves."""
    a, b, c = ALICE.user_id, BOB.user_id, CHEN.user_id
    # -- the week goes by -----------------------------------------------------------------------
    driver.at(day(1, 9))
    with driver.step(c, "/task done " + f"{KEY}-8"):
        driver.command(c, "/task", f"done {KEY}-8")
    driver.at(day(2, 10))
    with driver.step(b, f"/issue resolve {KEY}-2"):
        driver.command(b, "/issue", f"resolve {KEY}-2")
    with driver.step(b, f"/task done {KEY}-7"):
        driver.command(b, "/task", f"done {KEY}-7")

    # Thursday 10:00 in Shanghai: the weekly risk review.
    driver.at(day(3, 3))
    review = driver.last_post(REPORT, containing=f"{KEY}-5")
    with driver.step(
        a,
        say(
            locale,
            f"clicks “Still valid” for {KEY}-5 in the risk review",
            f"在风险评审中点击 {KEY}-5 的“仍然有效”",
        ),
    ):
        driver.click(
            a,
            button(blocks_of(review), ids.ACTION_REVIEW_STILL_VALID),
            channel=REPORT,
            message_ts=review["ts"],
        )

    # The training (due Thursday) is not done: Friday 09:00 in Berlin, Bob is nudged.
    driver.at(day(4, 9))
    # Monday of week 2: the digest (09:00 Shanghai), the owner hears of the overdue task, Bob again.
    driver.at(day(7, 9))
    nudge = driver.last_post(b)
    with driver.step(b, say(locale, "clicks “Done” in the reminder", "在提醒中点击“完成”")):
        driver.click(
            b, button(blocks_of(nudge), ids.ACTION_NUDGE_DONE), channel=f"D_{b}", message_ts=nudge["ts"]
        )

    driver.at(day(8, 9))
    with driver.step(a, f"/req deliver {KEY}-1"):
        driver.command(a, "/req", f"deliver {KEY}-1")
    with driver.step(a, f"/issue close {KEY}-2"):
        driver.command(a, "/issue", f"close {KEY}-2")
    with driver.step(a, f"/task done {KEY}-4"):
        driver.command(a, "/task", f"done {KEY}-4")
    driver.at(day(10, 3))  # the second risk review
    with driver.step(a, f"/risk close {KEY}-5"):
        driver.command(a, "/risk", f"close {KEY}-5")

    # Monday of week 3: the second digest; the Thursday risk review.
    driver.at(day(14, 9))
    driver.at(day(17, 3))
