"""The acknowledgement filter: a fixed English and Chinese list, once emoji, mentions and punctuation are gone."""

from __future__ import annotations

import pytest

from bot.domain.acknowledgements import cleaned, is_acknowledgement

ACKNOWLEDGEMENTS = [
    "thanks", "Thanks!", "Thank you 🙏", "thank you so much!!", "THX", "ty", "Cheers", "ok", "OK.", "okay 👍",
    "Ok, thanks!", "got it", "Got it, thanks", "great", "Great, thanks!", "perfect", "awesome!", "noted",
    "sounds good", "will do", "understood", "roger that", "<@U123> thanks", "<@U123|bob> ok!", "👍", "🙏🙏",
    ":+1:", ":thumbsup::skin-tone-2:", "🎉 thanks team", "ok thanks great", "Much appreciated.", "lgtm",
    "谢谢", "谢谢！", "好的", "好的，谢谢！", "收到", "收到啦", "明白", "明白了。", "多谢 🙏", "非常感谢！",
    "辛苦了", "好的 thanks", "嗯嗯", "没问题", "了解", "知道了～", "<@U99> 收到", "！！", "...",
]  # fmt: skip

REQUESTS = [
    "Server down", "server down!!", "打印机坏了", "系统登录不了", "Login fails", "not ok", "It's not working",
    "thanks, but the export is still empty", "ok but what about invoices?", "Can you check the VPN?", "help",
    "urgent", "refund?", "谢谢，但是还有问题", "好的，但是报表还是空的", "收到，另外发票也缺了", "为什么慢",
    "打不开", "报错了", "Error 500 on /checkout", "<@U123> the build is red", "👍 but the API is down",
    "great, now it crashes", "ok? it still fails", "Thanks for nothing, it broke again", "Invoice #123 missing",
    "https://example.com/broken", "<https://example.com/x|report>", "can't upload files", "数据丢失",
    "thank you for the fix, one more thing: the PDF is blank", "ok ok ok where is my order",
]  # fmt: skip


def test_the_tables_are_large_enough() -> None:
    assert len(ACKNOWLEDGEMENTS) >= 30 and len(REQUESTS) >= 30


@pytest.mark.parametrize("text", ACKNOWLEDGEMENTS)
def test_acknowledgements_are_recognised(text: str) -> None:
    assert is_acknowledgement(text), text


@pytest.mark.parametrize("text", REQUESTS)
def test_requests_are_not_acknowledgements(text: str) -> None:
    assert not is_acknowledgement(text), text


def test_an_empty_message_is_not_an_acknowledgement() -> None:
    # A file-only message has no text; it may be a screenshot of the problem.
    assert not is_acknowledgement("") and not is_acknowledgement("   ")


def test_mentions_emoji_and_punctuation_are_removed_before_matching() -> None:
    assert cleaned("<@U1|ann> Thanks!!! 🙏 :tada:") == "thanks"
    assert cleaned("好的，谢谢！") == "好的 谢谢"
