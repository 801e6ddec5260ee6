"""The stand-in Slack refuses what Slack refuses: each Block Kit rule, broken and then kept.

Every case feeds blocks (or a view, or an options answer) to the checks the fake Web API runs on each
message and view; the rules and the reference pages they come from are in ``bot/slack/block_rules.py``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bot.demo.simulator import FakeSlack, block_problems, view_problems


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def option(n: int, text: str | None = None) -> dict[str, Any]:
    return {"text": plain(text or f"Option {n}"), "value": str(n)}


def actions(*elements: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "actions", "block_id": "a", "elements": list(elements)}]


def message(blocks: list[dict[str, Any]]) -> list[str]:
    return block_problems(blocks, max_blocks=50)


def modal(blocks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Form"), "submit": plain("Save"), "blocks": blocks, **extra}


def input_block(element: dict[str, Any], label: Any = None) -> dict[str, Any]:
    return {"type": "input", "block_id": "i", "label": label or plain("Field"), "element": element}


def overflow(count: int) -> dict[str, Any]:
    return {"type": "overflow", "action_id": "more", "options": [option(n) for n in range(count)]}


def assert_refused(problems: list[str], *words: str) -> None:
    assert problems, "Slack would refuse this, the stand-in accepted it"
    text = " | ".join(problems)
    for word in words:
        assert word in text, text


# -- overflow menus: 2 to 5 options ----------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 6])
def test_overflow_with_too_few_or_too_many_options_is_refused(count: int) -> None:
    assert_refused(message(actions(overflow(count))), "overflow", f"{count} options")


@pytest.mark.parametrize("count", [2, 5])
def test_overflow_with_two_to_five_options_is_accepted(count: int) -> None:
    assert message(actions(overflow(count))) == []


def test_overflow_as_a_section_accessory_is_checked_too() -> None:
    section = {"type": "section", "text": mrkdwn("Risk"), "accessory": overflow(1)}
    assert_refused(message([section]), "overflow")
    section["accessory"] = overflow(2)
    assert message([section]) == []


def test_overflow_option_text_must_be_plain_text() -> None:
    menu = overflow(2)
    menu["options"][0]["text"] = mrkdwn("*bold*")
    assert_refused(message(actions(menu)), "option text must be a plain_text object")
    menu["options"][0]["text"] = plain("bold")
    assert message(actions(menu)) == []


# -- static selects: at most 100 options or option groups ------------------------------------------


def select(count: int, **extra: Any) -> dict[str, Any]:
    return {"type": "static_select", "action_id": "s", "options": [option(n) for n in range(count)], **extra}


def test_static_select_with_more_than_100_options_is_refused() -> None:
    assert_refused(view_problems(modal([input_block(select(101))])), "more than 100 options")
    assert view_problems(modal([input_block(select(100))])) == []


def test_static_select_with_more_than_100_option_groups_is_refused() -> None:
    groups = [{"label": plain(f"G{g}"), "options": [option(g)]} for g in range(101)]
    element = {"type": "static_select", "action_id": "s", "option_groups": groups}
    assert_refused(view_problems(modal([input_block(element)])), "more than 100 options")
    element["option_groups"] = groups[:100]
    assert view_problems(modal([input_block(element)])) == []


# -- checkboxes and radio buttons: at most 10 options ----------------------------------------------


@pytest.mark.parametrize("kind", ["checkboxes", "radio_buttons"])
def test_checkboxes_and_radio_buttons_take_at_most_ten_options(kind: str) -> None:
    element = {"type": kind, "action_id": "c", "options": [option(n) for n in range(11)]}
    assert_refused(view_problems(modal([input_block(element)])), kind, "more than 10 options")
    element["options"] = element["options"][:10]
    assert view_problems(modal([input_block(element)])) == []


def test_checkbox_options_may_use_mrkdwn() -> None:
    element = {"type": "checkboxes", "action_id": "c", "options": [{"text": mrkdwn("*Sign*"), "value": "s"}]}
    assert view_problems(modal([input_block(element)])) == []


# -- initial options must be exactly among the options ---------------------------------------------


def test_initial_option_not_among_the_options_is_refused() -> None:
    element = select(3, initial_option=option(7))
    assert_refused(view_problems(modal([input_block(element)])), "not among the options")
    element["initial_option"] = option(2)
    assert view_problems(modal([input_block(element)])) == []


def test_initial_option_must_be_the_same_object_not_just_the_same_value() -> None:
    element = select(3, initial_option={"text": plain("Two"), "value": "2"})
    assert_refused(view_problems(modal([input_block(element)])), "not among the options")


def test_initial_options_of_checkboxes_must_be_among_the_options() -> None:
    element = {"type": "checkboxes", "action_id": "c", "options": [option(1)], "initial_options": [option(2)]}
    assert_refused(view_problems(modal([input_block(element)])), "not among the options")
    element["initial_options"] = [option(1)]
    assert view_problems(modal([input_block(element)])) == []


def test_initial_option_inside_option_groups_is_found() -> None:
    groups = [{"label": plain("Active"), "options": [option(1), option(2)]}]
    element = {
        "type": "static_select",
        "action_id": "s",
        "option_groups": groups,
        "initial_option": option(2),
    }
    assert view_problems(modal([input_block(element)])) == []


# -- text objects are never empty --------------------------------------------------------------------


EMPTY_TEXT_CASES: dict[str, list[dict[str, Any]]] = {
    "section text": [{"type": "section", "text": mrkdwn("")}],
    "section field": [{"type": "section", "fields": [mrkdwn("ok"), mrkdwn("")]}],
    "header": [{"type": "header", "text": plain("")}],
    "context": [{"type": "context", "elements": [mrkdwn("")]}],
    "button": actions({"type": "button", "action_id": "b", "text": plain("")}),
    "option": actions(
        {"type": "overflow", "action_id": "o", "options": [option(1), {"text": plain(""), "value": "2"}]}
    ),
    "confirm": actions(
        {
            "type": "button",
            "action_id": "b",
            "text": plain("Close"),
            "confirm": {
                "title": plain("Sure?"),
                "text": plain(""),
                "confirm": plain("Yes"),
                "deny": plain("No"),
            },
        }
    ),
}


@pytest.mark.parametrize("case", list(EMPTY_TEXT_CASES))
def test_an_empty_text_object_is_refused_anywhere(case: str) -> None:
    blocks = EMPTY_TEXT_CASES[case]
    assert_refused(message(blocks), "empty")
    fixed = copy.deepcopy(blocks)

    def fill(obj: Any) -> None:
        if isinstance(obj, dict):
            if obj.get("type") in ("plain_text", "mrkdwn") and obj.get("text") == "":
                obj["text"] = "x"
            for value in obj.values():
                fill(value)
        elif isinstance(obj, list):
            for item in obj:
                fill(item)

    fill(fixed)
    assert message(fixed) == []


def test_an_empty_label_or_title_of_a_modal_is_refused() -> None:
    view = modal([input_block(select(2), label=plain(""))])
    assert_refused(view_problems(view), "empty")
    view = modal([input_block(select(2))], title=plain(""))
    assert_refused(view_problems(view), "empty")
    assert view_problems(modal([input_block(select(2))])) == []


# -- lengths of urls and ids -------------------------------------------------------------------------


def test_button_url_longer_than_3000_is_refused() -> None:
    button = {
        "type": "button",
        "action_id": "b",
        "text": plain("Open"),
        "url": "https://x.example/" + "a" * 3000,
    }
    assert_refused(message(actions(button)), "url longer than 3000")
    button["url"] = "https://x.example/" + "a" * 2900
    assert message(actions(button)) == []


def test_action_id_and_block_id_longer_than_255_are_refused() -> None:
    button = {"type": "button", "action_id": "b" * 256, "text": plain("Go")}
    assert_refused(message(actions(button)), "action_id longer than 255")
    button["action_id"] = "b" * 255
    assert message(actions(button)) == []
    block = {"type": "section", "block_id": "s" * 256, "text": mrkdwn("hi")}
    assert_refused(message([block]), "block_id longer than 255")
    block["block_id"] = "s" * 255
    assert message([block]) == []


# -- input blocks belong in modals ---------------------------------------------------------------------


def test_an_input_block_in_a_message_is_refused_and_accepted_in_a_modal() -> None:
    blocks = [input_block({"type": "plain_text_input", "action_id": "t"})]
    assert_refused(message(blocks), "input blocks belong in modals")
    assert view_problems(modal(blocks)) == []


def test_a_modal_with_inputs_needs_a_submit_button() -> None:
    view = modal([input_block({"type": "plain_text_input", "action_id": "t"})])
    del view["submit"]
    assert_refused(view_problems(view), "submit")


# -- text inputs: the initial value fits max_length ----------------------------------------------------


def test_initial_value_longer_than_max_length_is_refused() -> None:
    element = {"type": "plain_text_input", "action_id": "t", "max_length": 10, "initial_value": "x" * 11}
    assert_refused(view_problems(modal([input_block(element)])), "initial_value longer than max_length")
    element["initial_value"] = "x" * 10
    assert view_problems(modal([input_block(element)])) == []


def test_max_length_over_3000_is_refused() -> None:
    element = {"type": "plain_text_input", "action_id": "t", "max_length": 3001}
    assert_refused(view_problems(modal([input_block(element)])), "max_length")
    element["max_length"] = 3000
    assert view_problems(modal([input_block(element)])) == []


# -- text object types ----------------------------------------------------------------------------------


def test_header_text_must_be_plain_text() -> None:
    assert_refused(
        message([{"type": "header", "text": mrkdwn("*Digest*")}]), "header text must be a plain_text"
    )
    assert message([{"type": "header", "text": plain("Digest")}]) == []


def test_button_text_must_be_plain_text() -> None:
    button = {"type": "button", "action_id": "b", "text": mrkdwn("*Go*")}
    assert_refused(message(actions(button)), "button text must be a plain_text")
    button["text"] = plain("Go")
    assert message(actions(button)) == []


def test_select_option_text_must_be_plain_text() -> None:
    element = select(2)
    element["options"][1]["text"] = mrkdwn("two")
    assert_refused(view_problems(modal([input_block(element)])), "option text must be a plain_text")


def test_input_label_and_view_title_must_be_plain_text() -> None:
    assert_refused(view_problems(modal([input_block(select(2), label=mrkdwn("Field"))])), "label must be")
    assert_refused(view_problems(modal([input_block(select(2))], title=mrkdwn("Form"))), "title must be")


# -- date picker and time picker formats ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["2026/12/01", "01-12-2026", "2026-13-01", "2026-12-1", "tomorrow"])
def test_datepicker_initial_date_must_be_yyyy_mm_dd(value: str) -> None:
    element = {"type": "datepicker", "action_id": "d", "initial_date": value}
    assert_refused(view_problems(modal([input_block(element)])), "initial_date")


def test_datepicker_with_an_iso_date_is_accepted() -> None:
    element = {"type": "datepicker", "action_id": "d", "initial_date": "2026-12-01"}
    assert view_problems(modal([input_block(element)])) == []


def test_timepicker_initial_time_must_be_hh_mm() -> None:
    element = {"type": "timepicker", "action_id": "t", "initial_time": "9:00"}
    assert_refused(view_problems(modal([input_block(element)])), "initial_time")
    element["initial_time"] = "09:00"
    assert view_problems(modal([input_block(element)])) == []


# -- external selects -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [-1, "2", 1.5, True])
def test_external_select_min_query_length_must_be_a_whole_number(value: Any) -> None:
    element = {"type": "external_select", "action_id": "e", "min_query_length": value}
    assert_refused(view_problems(modal([input_block(element)])), "min_query_length")


def test_external_select_with_min_query_length_zero_is_accepted() -> None:
    element = {"type": "external_select", "action_id": "e", "min_query_length": 0}
    assert view_problems(modal([input_block(element)])) == []


def test_an_options_answer_keeps_to_100_plain_text_options() -> None:
    too_many = {"options": [option(n) for n in range(101)]}
    assert_refused(FakeSlack.options_problems(too_many), "more than 100")
    assert FakeSlack.options_problems({"options": too_many["options"][:100]}) == []
    assert_refused(
        FakeSlack.options_problems({"options": [{"text": mrkdwn("x"), "value": "1"}]}), "plain_text"
    )
    assert_refused(FakeSlack.options_problems({}), "neither")


# -- the smaller rules the stand-in also keeps -------------------------------------------------------


def test_a_section_field_longer_than_2000_is_refused() -> None:
    block = {"type": "section", "fields": [mrkdwn("x" * 2001)]}
    assert_refused(message([block]), "field longer than 2000")
    block["fields"] = [mrkdwn("x" * 2000)]
    assert message([block]) == []


def test_a_placeholder_is_plain_text_of_at_most_150() -> None:
    element = select(2, placeholder=mrkdwn("Pick"))
    assert_refused(view_problems(modal([input_block(element)])), "placeholder must be a plain_text")
    element["placeholder"] = plain("x" * 151)
    assert_refused(view_problems(modal([input_block(element)])), "placeholder longer than 150")
    element["placeholder"] = plain("Pick one")
    assert view_problems(modal([input_block(element)])) == []


def test_confirm_dialog_title_and_buttons_are_plain_text() -> None:
    confirm = {
        "title": mrkdwn("Sure?"),
        "text": mrkdwn("It *closes*."),
        "confirm": plain("Yes"),
        "deny": plain("No"),
    }
    button = {"type": "button", "action_id": "b", "text": plain("Close"), "confirm": confirm}
    assert_refused(message(actions(button)), "confirm title must be a plain_text")
    confirm["title"] = plain("Sure?")
    assert message(actions(button)) == []


def test_option_urls_belong_to_overflow_menus_only() -> None:
    element = select(2)
    element["options"][0]["url"] = "https://example.com"
    assert_refused(view_problems(modal([input_block(element)])), "only allowed in overflow")
    menu = overflow(2)
    menu["options"][0]["url"] = "https://example.com/" + "a" * 3000
    assert_refused(message(actions(menu)), "option url longer than 3000")
    menu["options"][0]["url"] = "https://example.com/"
    assert message(actions(menu)) == []


def test_option_description_is_at_most_75() -> None:
    element: dict[str, Any] = {
        "type": "radio_buttons",
        "action_id": "r",
        "options": [{**option(1), "description": plain("d" * 76)}],
    }
    assert_refused(view_problems(modal([input_block(element)])), "description longer than 75")
    element["options"][0]["description"] = plain("d" * 75)
    assert view_problems(modal([input_block(element)])) == []


def test_min_length_must_be_between_0_and_3000() -> None:
    element = {"type": "plain_text_input", "action_id": "t", "min_length": 3001}
    assert_refused(view_problems(modal([input_block(element)])), "min_length")
    element["min_length"] = 3000
    assert view_problems(modal([input_block(element)])) == []


def test_option_group_labels_are_plain_text() -> None:
    groups = [{"label": mrkdwn("*Active*"), "options": [option(1)]}]
    element = {"type": "static_select", "action_id": "s", "option_groups": groups}
    assert_refused(view_problems(modal([input_block(element)])), "option group label must be a plain_text")
    groups[0]["label"] = plain("Active")
    assert view_problems(modal([input_block(element)])) == []


def test_a_view_callback_id_longer_than_255_is_refused() -> None:
    assert_refused(view_problems(modal([], callback_id="c" * 256)), "callback_id longer than 255")
    assert view_problems(modal([], callback_id="c" * 255)) == []
