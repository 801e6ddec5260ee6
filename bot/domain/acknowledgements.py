"""The acknowledgement filter: a customer's "thanks!" or "好的" is never suggested or logged.

A message is an acknowledgement when, once mentions, emoji (``:shortcode:`` and Unicode), punctuation and
spaces are removed, nothing is left, or only words of the fixed English and Chinese lists below. Anything else
— however short ("Server down", "打印机坏了") — is a possible request. The lists are fixed and tested
(tests/intake/test_acknowledgements.py); they are matched as whole phrases, so "ok" never hides "not ok".
"""

from __future__ import annotations

import re
import unicodedata

# Whole messages (lower case, after cleaning) that only acknowledge. Chinese has no spaces: its phrases may
# also be chained ("好的谢谢"), see :func:`_only_chinese_acks`.
ENGLISH = frozenset(
    {
        "thanks", "thank you", "thank you so much", "thank you very much", "thanks a lot", "thanks so much",
        "many thanks", "thx", "ty", "tks", "cheers", "ok", "okay", "ok thanks", "ok thank you", "okay thanks",
        "k", "kk", "got it", "got it thanks", "great", "great thanks", "perfect", "awesome", "cool", "nice",
        "noted", "noted thanks", "sure", "sounds good", "will do", "understood", "roger", "roger that",
        "ack", "acknowledged", "received", "yes", "yep", "yeah", "alright", "all right", "fine",
        "appreciate it", "much appreciated", "great job", "good job", "well done", "thanks team",
        "thank you team", "lgtm", "no problem", "np", "welcome", "you're welcome", "youre welcome",
    }
)  # fmt: skip
CHINESE = (
    "非常感谢", "十分感谢", "多谢", "谢谢你们", "谢谢你", "谢谢", "感谢", "辛苦了", "辛苦", "好的", "好滴",
    "好嘞", "好", "行", "可以", "没问题", "收到", "明白了", "明白", "了解", "知道了", "懂了", "嗯嗯", "嗯",
    "哦", "噢", "赞", "太好了", "很好", "不错", "棒", "完美", "好的呢",
)  # fmt: skip
# Chinese phrases, longest first, so "谢谢你" is taken before "谢谢".
_CHINESE = tuple(sorted(set(CHINESE), key=len, reverse=True))
# Chinese particles that end a sentence without changing it ("好的呀", "收到啦").
_PARTICLES = "啊呀啦哈吧哦呢的了喔"

_MENTION = re.compile(r"<[@#!][^>]*>")
_LINK = re.compile(r"<https?://[^>]*>")
_SHORTCODE = re.compile(r":[a-z0-9_+'-]+:(?::skin-tone-\d:)?", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def _is_symbol(char: str) -> bool:
    """Punctuation, symbols (emoji among them), joiners and variation selectors."""
    category = unicodedata.category(char)
    return category[0] in "PS" or category in ("Cf", "Mn", "Sk") or char in "\u200d\ufe0f"


def cleaned(text: str) -> str:
    """The words of a message: no mentions, links, emoji or punctuation; lower case, single spaces."""
    text = _MENTION.sub(" ", text or "")
    text = _LINK.sub(" word ", text)  # a link is content
    text = _SHORTCODE.sub(" ", text)
    text = text.replace("&amp;", " ").replace("&lt;", " ").replace("&gt;", " ")
    text = "".join(" " if _is_symbol(c) else c for c in text)
    return _SPACES.sub(" ", text).strip().lower()


def _only_chinese_acks(text: str) -> bool:
    rest = text.replace(" ", "")
    if not rest:
        return False
    while rest:
        for phrase in _CHINESE:
            if rest.startswith(phrase):
                rest = rest[len(phrase) :]
                break
        else:
            if rest[0] in _PARTICLES:
                rest = rest[1:]
                continue
            return False
    return True


def _only_english_acks(words: list[str]) -> bool:
    """Whether the words split into phrases of :data:`ENGLISH` ("ok thanks great")."""
    reachable = [True] + [False] * len(words)
    for end in range(1, len(words) + 1):
        reachable[end] = any(
            reachable[start] and " ".join(words[start:end]) in ENGLISH
            for start in range(max(0, end - 4), end)
        )
    return reachable[-1]


def is_acknowledgement(text: str) -> bool:
    """True for a message that only acknowledges (or is only emoji); False for anything that may need work."""
    words = cleaned(text)
    if not words:
        return bool((text or "").strip())  # only emoji / punctuation / mentions; an empty text is no message
    # Chinese and English may be mixed ("好的 thanks"): every run of Latin words and every run of Chinese
    # characters must be acknowledgements.
    for run in re.findall(r"[a-z0-9'’ ]+|[^a-z0-9'’ ]+", words):
        run = run.strip()
        if not run:
            continue
        latin = bool(re.fullmatch(r"[a-z0-9'’ ]+", run))
        if latin and not _only_english_acks(run.split()):
            return False
        if not latin and not _only_chinese_acks(run):
            return False
    return True
