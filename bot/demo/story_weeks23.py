"""Weeks 1 to 3: the work goes on, the scheduler's jobs run as the clock moves."""

from __future__ import annotations

from bot.demo.cast import ALICE, BOB, CHANNEL, CHEN, KEY, REPORT, day, say
from bot.demo.driver import Driver, blocks_of, button
from bot.slack import ids


def play(driver: Driver, locale: str) -> None:
    """Weeks 1 to 3: the work goes on, the scheduler's jobs run as the clock moves."""
    a, b, c = ALICE.user_id, BOB.user_id, CHEN.user_id
    # -- the week goes by -----------------------------------------------------------------------
    driver.at(day(1, 9))
    samples = driver.say(
        c,
        say(
            locale,
            "Here are the three sample invoices from the kick-off.",
            "这是启动会上说的三张样本发票。",
        ),
    )
    with driver.step(
        a,
        say(locale, "clicks “Ignore” on the card: nothing to log", "在分诊卡片上点击“忽略”：无需记录"),
    ):
        driver.click_card(a, samples, ids.ACTION_TRIAGE_IGNORE)
    with driver.step(a, f"/task done {KEY}-8"):
        driver.command(a, "/task", f"done {KEY}-8", channel=REPORT)
    driver.at(day(2, 10))
    with driver.step(b, f"/issue resolve {KEY}-2"):
        driver.command(b, "/issue", f"resolve {KEY}-2", channel=REPORT)
    # The issue is resolved: its thread gets the satisfaction card, which only Chen can answer.
    card = driver.last_post(CHANNEL, containing=ids.survey_score_action(5))
    with driver.step(
        c,
        say(locale, f"answers “4” on the card in the thread of {KEY}-2", f"在 {KEY}-2 话题中的卡片上回答“4”"),
    ):
        driver.click(
            c, button(blocks_of(card), ids.survey_score_action(4)), channel=CHANNEL, message_ts=card["ts"]
        )
    with driver.step(b, f"/task done {KEY}-7"):
        driver.command(b, "/task", f"done {KEY}-7", channel=REPORT)

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
        driver.command(a, "/req", f"deliver {KEY}-1", channel=REPORT)
    with driver.step(a, f"/issue close {KEY}-2"):
        driver.command(a, "/issue", f"close {KEY}-2", channel=REPORT)
    with driver.step(a, f"/task done {KEY}-4"):
        driver.command(a, "/task", f"done {KEY}-4", channel=REPORT)

    # Tuesday 17:00 in Shanghai: Chen reports a problem; Bob logs it with :ticket: and takes it.
    login = driver.say(
        c,
        say(
            locale,
            "Portal login fails for new colleagues\nTwo colleagues who joined this week get “access denied”.",
            "新同事无法登录门户\n本周入职的两位同事登录时提示“拒绝访问”。",
        ),
    )
    with driver.step(b, say(locale, "reacts with :ticket: to Chen's message", "用 :ticket: 回应陈静的消息")):
        driver.react(b, login, "ticket")
    text = f"assign {KEY}-9 <@{b}|bob>"
    with driver.step(b, f"/issue {text}"):
        driver.command(b, "/issue", text, channel=REPORT)
    # Nobody answers her by Wednesday afternoon in Shanghai: 80 % of the first-response target is gone.
    driver.at(day(9, 7))
    driver.say(
        b,
        say(
            locale,
            "Sorry for the wait: their accounts are unlocked now, could they try again?",
            "抱歉久等：他们的账号已解锁，请再试一次？",
        ),
        thread_ts=login["ts"],
    )
    driver.say(c, say(locale, "It works now, thank you!", "现在可以了，谢谢！"), thread_ts=login["ts"])
    with driver.step(b, f"/issue resolve {KEY}-9"):
        driver.command(b, "/issue", f"resolve {KEY}-9", channel=REPORT)

    driver.at(day(10, 3))  # the second risk review
    with driver.step(a, f"/risk close {KEY}-5"):
        driver.command(a, "/risk", f"close {KEY}-5", channel=REPORT)
    with driver.step(a, f"/issue close {KEY}-9"):
        driver.command(a, "/issue", f"close {KEY}-9", channel=REPORT)

    # Monday of week 3: the second digest; the Thursday risk review.
    driver.at(day(14, 9))
    driver.at(day(17, 3))
