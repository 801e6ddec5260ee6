"""Friday of week 3: the project is closed, Chen answers the closing survey."""

from __future__ import annotations

from bot.demo.cast import ALICE, CHANNEL, CHEN, REPORT, day, say
from bot.demo.driver import Driver, blocks_of, button
from bot.slack import ids


def play(driver: Driver, locale: str) -> None:
    """Friday of week 3: the project is closed, Chen answers the closing survey."""
    a, c = ALICE.user_id, CHEN.user_id
    # -- Friday of week 3: closing (three weeks of history: the report carries its chart) ---------
    driver.at(day(18, 1))
    with driver.step(
        a,
        say(
            locale, "/project close, with a summary and lessons learned", "/project close，填写总结与经验教训"
        ),
    ):
        driver.command(a, "/project", "close", channel=REPORT)
        driver.submit_view(
            a,
            driver.opened_view(),
            **{
                ids.BLOCK_CLOSE_SUMMARY: say(
                    locale,
                    "VAT fix and Excel export delivered; finance trained.",
                    "增值税已修复，Excel 导出已交付，财务已培训。",
                ),
                ids.BLOCK_CLOSE_LESSONS: say(
                    locale, "Log customer requests the day they come in.", "客户请求当天就要记录。"
                ),
            },
        )

    # 11:00 in Shanghai: Chen is of another organisation (no DM can reach her): the survey is a card in
    # the shared channel that mentions her; only she can answer it, and nobody there sees her answer.
    driver.at(day(18, 3))
    card = driver.last_post(CHANNEL, containing=ids.ACTION_SURVEY_DETAILS)
    with driver.step(
        c, say(locale, "answers the survey on the card in the channel: 5", "在频道中的调查卡片上回答：5 分")
    ):
        driver.click(
            c, button(blocks_of(card), ids.survey_score_action(5)), channel=CHANNEL, message_ts=card["ts"]
        )
    with driver.step(c, say(locale, "adds a comment to the answer", "为回答补充评论")):
        driver.click(
            c, button(blocks_of(card), ids.ACTION_SURVEY_DETAILS), channel=CHANNEL, message_ts=card["ts"]
        )
        driver.submit_view(
            c,
            driver.opened_view(),
            **{
                ids.BLOCK_SURVEY_RECOMMEND: "9",
                ids.BLOCK_SURVEY_COMMENT: say(
                    locale, "Quick & friendly — <b>thank you</b>!", "响应快，态度好 <b>谢谢</b>！"
                ),
                ids.BLOCK_SURVEY_SIGN: [ids.SURVEY_SIGN_VALUE],
            },
        )

    driver.at(day(21, 9))  # the survey closes; its results go to the team
    with driver.step(a, say(locale, "opens the App Home once more", "再次打开 App Home")):
        driver.open_home(a)
