"""Friday of week 3: the project is closed, Chen answers the closing survey."""

from __future__ import annotations

from bot import ids
from bot.demo.cast import ALICE, BOB, CHEN, day, say
from bot.demo.driver import Driver, blocks_of, button


def play(driver: Driver, locale: str) -> None:
    """Friday of week 3: the project is closed, Chen answers the closing survey."""
    a, b, c = ALICE.user_id, BOB.user_id, CHEN.user_id
    del b
    # -- Friday of week 3: closing (three weeks of history: the report carries its chart) ---------
    driver.at(day(18, 1))
    with driver.step(
        a,
        say(
            locale, "/project close, with a summary and lessons learned", "/project close，填写总结与经验教训"
        ),
    ):
        driver.command(a, "/project", "close")
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

    driver.at(day(18, 3))  # 11:00 in Shanghai: Chen is invited
    invitation = driver.last_post(c)
    with driver.step(c, say(locale, "answers the survey: 5", "回答调查：5 分")):
        driver.click(
            c,
            button(blocks_of(invitation), ids.survey_score_action(5)),
            channel=f"D_{c}",
            message_ts=invitation["ts"],
        )
    redrawn = [x for x in driver.fake.calls_to("chat.update") if x.args.get("channel") == f"D_{c}"][-1]
    with driver.step(c, say(locale, "adds a comment to the answer", "为回答补充评论")):
        driver.click(
            c,
            button(blocks_of(redrawn.args), ids.ACTION_SURVEY_DETAILS),
            channel=f"D_{c}",
            message_ts=invitation["ts"],
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
