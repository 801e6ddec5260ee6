"""Week 1: the project starts, Chen's first requests are logged, the kick-off."""

from __future__ import annotations

from bot.demo.cast import ALICE, BOB, CHEN, KEY, REPORT, REPORT_NAME, day, iso, say
from bot.demo.driver import Driver, button
from bot.slack import ids


def play(driver: Driver, locale: str) -> None:
    """Week 1: the project starts, Chen's first requests are logged, the kick-off."""
    z = locale == "zh-CN"
    a, b, c = ALICE.user_id, BOB.user_id, CHEN.user_id

    # -- Monday, week 1 -------------------------------------------------------------------------
    name = "Acme 售后服务" if z else "Acme Corp after-sales"
    with driver.step(a, f"/project new {KEY} {name}"):
        driver.command(a, "/project", f"new {KEY} {name}")
    with driver.step(
        a,
        say(
            locale,
            "opens /project settings: Chen as customer contact, "
            "#acme-internal for reports, Shanghai time, surveys open 3 days",
            "打开 /project settings：陈静为客户联系人，报告发到 #acme-internal，上海时间，调查开放 3 天",
        ),
    ):
        driver.command(a, "/project", "settings")
        driver.submit_view(
            a,
            driver.opened_view(),
            customer_contacts=[c],
            report_channel=REPORT,
            timezone="Asia/Shanghai",
            survey_open_days="3",
        )

    # The team works in #acme-internal, linked to the project too: what it logs there stays internal.
    with driver.step(
        a,
        say(
            locale, f"/project link {KEY} (in #{REPORT_NAME})", f"/project link {KEY}（在 #{REPORT_NAME} 中）"
        ),
    ):
        driver.command(a, "/project", f"link {KEY}", channel=REPORT)

    # Chen writes in the shared channel; each message of hers gets a triage card in #acme-internal.
    export = driver.say(
        c,
        say(
            locale,
            "Excel export of the monthly report\n"
            "Could the monthly report be exported to Excel? Our finance team needs it by the 10th.",
            "月度报告导出 Excel\n月度报告能导出成 Excel 吗？我们财务部 10 号之前要用。",
        ),
    )
    with driver.step(
        a,
        say(
            locale,
            "clicks “Log as requirement” on the card about Chen's message",
            "在陈静消息的分诊卡片上点击“记为需求”",
        ),
    ):
        driver.click_card(a, export, ids.ACTION_TRIAGE_REQUIREMENT)

    vat = driver.say(
        c,
        say(
            locale,
            "Invoice PDF shows the wrong VAT rate\n"
            "Since the update the invoice PDF shows 16% VAT instead of 19% <urgent>.",
            "发票 PDF 增值税税率错误\n更新后发票 PDF 上的增值税显示为 16%，应该是 19% <紧急>。",
        ),
    )
    with driver.step(
        b,
        say(
            locale,
            "clicks “Log as issue” on the card about Chen's message",
            "在陈静消息的分诊卡片上点击“记为问题”",
        ),
    ):
        driver.click_card(b, vat, ids.ACTION_TRIAGE_ISSUE)
    # Bob's answer in the thread, 25 minutes later, is the issue's first response (its clock stops).
    driver.at(day(0, 8, 25))
    driver.say(
        b,
        say(
            locale,
            "Thanks Chen, we can reproduce it. The fix is planned for Wednesday.",
            "谢谢陈静，我们已复现该问题，计划周三修复。",
        ),
        thread_ts=vat["ts"],
    )
    # An acknowledgement is never intake: no card, no issue.
    driver.say(c, say(locale, "thanks!", "谢谢！"))

    training = say(locale, "Train the finance team on the new report", "为财务团队培训新报告")
    text = f"new {training} <@{b}|bob> due:{iso(3)}"
    with driver.step(a, f"/task {text}"):
        driver.command(a, "/task", text, channel=REPORT)
    text = say(
        locale,
        f"new Migrate last year's invoices <@{a}|alice> due:{iso(10)}",
        f"new 迁移去年的发票 <@{a}|alice> due:{iso(10)}",
    )
    with driver.step(a, f"/task {text}"):
        driver.command(a, "/task", text, channel=REPORT)
    text = say(
        locale,
        f"new Customer IT freeze in December delays the rollout <@{a}|alice> p:3 i:4",
        f"new 客户 12 月 IT 冻结导致上线延期 <@{a}|alice> p:3 i:4",
    )
    with driver.step(a, f"/risk {text}"):
        driver.command(a, "/risk", text, channel=REPORT)

    home = driver.home_of(b)
    with driver.step(
        b, say(locale, f"clicks “Start” on {KEY}-3 in his App Home", f"在 App Home 中点击 {KEY}-3 的“开始”")
    ):
        driver.click(b, button(home, ids.ACTION_CARD_MOVE, "start", key=f"{KEY}-3"))

    driver.at(day(0, 13))
    kickoff = say(locale, "Kick-off with Acme", "与 Acme 的启动会")
    with driver.step(a, f"/meeting new {kickoff}"):
        driver.command(a, "/meeting", f"new {kickoff}", channel=REPORT)
        rows = {
            f"{ids.BLOCK_ITEM_TEXT}_0": say(locale, "Send the VAT fix plan", "发送增值税修复计划"),
            f"{ids.BLOCK_ITEM_OWNER}_0": b,
            f"{ids.BLOCK_ITEM_DUE}_0": iso(2),
            f"{ids.BLOCK_ITEM_TEXT}_1": say(locale, "Share three sample invoices", "提供三张样本发票"),
            f"{ids.BLOCK_ITEM_OWNER}_1": c,
            f"{ids.BLOCK_ITEM_DUE}_1": iso(1),
        }
        driver.submit_view(
            a,
            driver.opened_view(),
            **{
                ids.BLOCK_MEETING_DATE: iso(0),
                ids.BLOCK_ATTENDEES: [a, b, c],
                ids.BLOCK_NOTES: say(
                    locale,
                    "Walked through the open points. Finance wants Excel & PDF.",
                    "逐项过了未决事项。财务需要 Excel 和 PDF。",
                ),
                ids.BLOCK_DECISIONS: say(
                    locale, "VAT fix ships before the report export.", "先修复增值税，再做报告导出。"
                ),
                **rows,
            },
        )

    with driver.step(a, say(locale, "opens the Aftercare App Home", "打开 Aftercare 的 App Home")):
        driver.open_home(a)
