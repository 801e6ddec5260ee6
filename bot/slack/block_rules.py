"""Block Kit's rules, checked as Slack checks them: what the stand-in Slack refuses with ``invalid_blocks``.

Each rule names the reference page it comes from; ``{REF}`` in the comments stands for
https://docs.slack.dev/reference/block-kit. The builders in ``bot/slack/*_blocks.py`` share the numbers
through :mod:`bot.slack.limits`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.slack import limits

Problems = list[str]
TEXT_TYPES = ("plain_text", "mrkdwn")
# Option text must be plain_text here; checkboxes and radio buttons may use mrkdwn (option object page).
PLAIN_OPTION_ELEMENTS = ("overflow", "static_select", "multi_static_select")
SELECTS = ("static_select", "multi_static_select")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _text_of(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


def _text_objects(obj: Any, where: str) -> Problems:
    """Every text object anywhere inside ``obj``: 1 to 3000 characters.

    https://docs.slack.dev/reference/block-kit/composition-objects/text-object — "The minimum length is 1 and maximum length is 3000 characters."
    """
    problems: Problems = []
    if isinstance(obj, dict):
        if obj.get("type") in TEXT_TYPES and isinstance(obj.get("text"), str):
            if not obj["text"]:
                problems.append(f"{where}: empty {obj['type']} text (at least 1 character)")
            elif len(obj["text"]) > limits.TEXT:
                problems.append(f"{where}: text longer than {limits.TEXT}")
            return problems
        for value in obj.values():
            problems += _text_objects(value, where)
    elif isinstance(obj, list):
        for item in obj:
            problems += _text_objects(item, where)
    return problems


def _plain(obj: Any, where: str, name: str, limit: int | None = None) -> Problems:
    """A field that takes a ``plain_text`` object only (headers, buttons, labels, placeholders, titles)."""
    if obj is None:
        return []
    problems: Problems = []
    if not isinstance(obj, dict) or obj.get("type") != "plain_text":
        problems.append(f"{where}: {name} must be a plain_text object")
    if limit is not None and len(_text_of(obj)) > limit:
        problems.append(f"{where}: {name} longer than {limit}")
    return problems


def _options_of(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += list(group.get("options") or [])
    return options


def _option_problems(option: dict[str, Any], where: str, *, plain_only: bool, overflow: bool) -> Problems:
    """{REF}/composition-objects/option-object — text ≤75 (plain_text in overflow and selects), value ≤150."""
    problems: Problems = []
    if plain_only:
        problems += _plain(option.get("text"), where, "option text")
    if (
        len(_text_of(option.get("text"))) > limits.OPTION_TEXT
        or len(str(option.get("value", ""))) > limits.OPTION_VALUE
    ):
        problems.append(f"{where}: option too long")
    if len(_text_of(option.get("description"))) > limits.OPTION_TEXT:
        problems.append(f"{where}: option description longer than {limits.OPTION_TEXT}")
    if "url" in option:
        if not overflow:
            problems.append(f"{where}: option url is only allowed in overflow menus")
        elif len(str(option["url"])) > limits.URL:
            problems.append(f"{where}: option url longer than {limits.URL}")
    return problems


def _choice_problems(element: dict[str, Any], where: str) -> Problems:
    """Counts of options and that ``initial_option(s)`` are exactly among them."""
    kind = element.get("type")
    problems: Problems = []
    options = element.get("options") or []
    groups = element.get("option_groups") or []
    if kind == "overflow" and not limits.OVERFLOW_MIN <= len(options) <= limits.OVERFLOW_MAX:
        # {REF}/block-elements/overflow-menu-element — options: "Maximum number of options is 5, minimum is 2."
        problems.append(
            f"{where}: overflow has {len(options)} options "
            f"(at least {limits.OVERFLOW_MIN}, at most {limits.OVERFLOW_MAX})"
        )
    if kind in SELECTS:
        # {REF}/block-elements/select-menu-element#static_select — at most 100 options or option groups.
        if len(options) > limits.SELECT_OPTIONS or len(groups) > limits.SELECT_OPTIONS:
            problems.append(f"{where}: more than {limits.SELECT_OPTIONS} options")
        if any(len(g.get("options") or []) > limits.SELECT_OPTIONS for g in groups):
            problems.append(f"{where}: an option group has more than {limits.SELECT_OPTIONS} options")
        problems += [p for g in groups for p in _plain(g.get("label"), where, "option group label", 75)]
    if kind in ("checkboxes", "radio_buttons") and len(options) > limits.CHOICE_OPTIONS:
        # {REF}/block-elements/checkboxes-element and …/radio-button-group-element: "A maximum of 10 options".
        problems.append(f"{where}: {kind} has more than {limits.CHOICE_OPTIONS} options")
    if kind in (*SELECTS, "checkboxes", "radio_buttons"):
        # The initial option(s) must be "an option object that exactly matches one of the options".
        every = _options_of(element)
        initial = [element["initial_option"]] if "initial_option" in element else []
        initial += list(element.get("initial_options") or [])
        for chosen in initial:
            if chosen not in every:
                problems.append(
                    f"{where}: initial option {_text_of(chosen.get('text'))!r} is not among the options"
                )
    for option in _options_of(element):
        problems += _option_problems(
            option, where, plain_only=kind in PLAIN_OPTION_ELEMENTS, overflow=kind == "overflow"
        )
    return problems


def _input_problems(element: dict[str, Any], where: str) -> Problems:
    """{REF}/block-elements/plain-text-input-element: max_length 1–3000, min_length 0–3000."""
    problems: Problems = []
    max_length = element.get("max_length", limits.INPUT)
    min_length = element.get("min_length", 0)
    if not isinstance(max_length, int) or not 1 <= max_length <= limits.INPUT:
        problems.append(f"{where}: max_length must be between 1 and {limits.INPUT}")
        max_length = limits.INPUT
    if not isinstance(min_length, int) or not 0 <= min_length <= limits.INPUT:
        problems.append(f"{where}: min_length must be between 0 and {limits.INPUT}")
    initial = element.get("initial_value")
    if isinstance(initial, str) and len(initial) > max_length:
        problems.append(f"{where}: initial_value longer than max_length")
    return problems


def _date_problems(element: dict[str, Any], where: str) -> Problems:
    """Date picker ``initial_date`` "in the format YYYY-MM-DD", time picker ``initial_time`` "HH:mm".

    https://docs.slack.dev/reference/block-kit/block-elements/date-picker-element and …/time-picker-element
    """
    problems: Problems = []
    if "initial_date" in element:
        value = str(element["initial_date"])
        try:
            valid = bool(ISO_DATE.match(value)) and bool(date.fromisoformat(value))
        except ValueError:
            valid = False
        if not valid:
            problems.append(f"{where}: initial_date {value!r} is not YYYY-MM-DD")
    if "initial_time" in element and not HH_MM.match(str(element["initial_time"])):
        problems.append(f"{where}: initial_time {element['initial_time']!r} is not HH:mm")
    return problems


def element_problems(element: dict[str, Any], where: str) -> Problems:
    """One interactive element (in an actions block, a section's accessory or an input block)."""
    kind = element.get("type")
    problems: Problems = []
    if len(str(element.get("action_id") or "")) > limits.ID:
        # Every element page: action_id "Maximum length is 255 characters."
        problems.append(f"{where}: action_id longer than {limits.ID}")
    problems += _plain(element.get("placeholder"), where, "placeholder", limits.PLACEHOLDER)
    if kind == "button":
        # {REF}/block-elements/button-element — text plain_text ≤75, value ≤2000, url ≤3000.
        problems += _plain(element.get("text"), where, "button text")
        if len(_text_of(element.get("text"))) > limits.BUTTON_TEXT:
            problems.append(f"{where}: button text longer than {limits.BUTTON_TEXT}")
        if len(str(element.get("value") or "")) > limits.BUTTON_VALUE:
            problems.append(f"{where}: button value longer than {limits.BUTTON_VALUE}")
        if len(str(element.get("url") or "")) > limits.URL:
            problems.append(f"{where}: button url longer than {limits.URL}")
    if kind in ("overflow", "checkboxes", "radio_buttons", *SELECTS):
        problems += _choice_problems(element, where)
    if kind in ("external_select", "multi_external_select") and "min_query_length" in element:
        # {REF}/block-elements/select-menu-element#external_select — a number of typed characters (default 3).
        value = element["min_query_length"]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            problems.append(f"{where}: min_query_length must be a whole number ≥ 0")
    if kind == "plain_text_input":
        problems += _input_problems(element, where)
    if kind in ("datepicker", "timepicker"):
        problems += _date_problems(element, where)
    confirm = element.get("confirm")
    if isinstance(confirm, dict):
        # {REF}/composition-objects/confirmation-dialog-object — title, confirm and deny are plain_text.
        for name in ("title", "confirm", "deny"):
            problems += _plain(confirm.get(name), where, f"confirm {name}")
    return problems


def _block_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    kind = block.get("type")
    elements = list(block.get("elements") or []) if kind == "actions" else []
    if block.get("accessory"):
        elements.append(block["accessory"])
    if kind == "input" and block.get("element"):
        elements.append(block["element"])
    return elements


def _layout_problems(block: dict[str, Any], where: str, surface: str) -> Problems:
    kind = block.get("type")
    problems: Problems = []
    if kind == "section":
        # {REF}/blocks/section-block — text ≤3000 (as every text object); fields: at most 10, each ≤2000.
        fields = block.get("fields") or []
        if len(fields) > limits.SECTION_FIELDS:
            problems.append(f"{where}: more than {limits.SECTION_FIELDS} fields")
        if any(len(_text_of(f)) > limits.FIELD_TEXT for f in fields):
            problems.append(f"{where}: a field longer than {limits.FIELD_TEXT}")
    if kind == "header":
        # {REF}/blocks/header-block — a plain_text object, at most 150 characters.
        problems += _plain(block.get("text"), where, "header text", limits.HEADER)
    if kind == "context":
        # {REF}/blocks/context-block — at most 10 elements.
        elements = block.get("elements") or []
        if len(elements) > limits.CONTEXT_ELEMENTS:
            problems.append(f"{where}: more than {limits.CONTEXT_ELEMENTS} elements")
    if kind == "actions" and len(block.get("elements") or []) > limits.ACTIONS_ELEMENTS:
        # {REF}/blocks/actions-block — at most 25 elements.
        problems.append(f"{where}: more than {limits.ACTIONS_ELEMENTS} elements")
    if kind == "image":
        problems += _image_problems(block, where)
    if kind == "input":
        # {REF}/blocks/input-block — label and hint are plain_text ≤2000. Aftercare treats input blocks as
        # belonging to modals and Home tabs (the surfaces Slack's guides collect input in), never messages.
        if surface == "message":
            problems.append(f"{where}: input blocks belong in modals, not messages")
        problems += _plain(block.get("label"), where, "label", limits.LABEL)
        problems += _plain(block.get("hint"), where, "hint", limits.LABEL)
    return problems


def _image_problems(block: dict[str, Any], where: str) -> Problems:
    """{REF}/blocks/image-block — ``alt_text`` required, plain, ≤2000; exactly one of ``image_url`` (≤3000) and
    ``slack_file``; a slack_file has exactly one of ``id`` and ``url`` ({REF}/composition-objects/slack-file-object);
    ``title`` plain_text ≤2000."""
    problems: Problems = []
    alt = block.get("alt_text")
    if not isinstance(alt, str) or not alt or len(alt) > limits.IMAGE_ALT_TEXT:
        problems.append(f"{where}: alt_text must be 1-{limits.IMAGE_ALT_TEXT} characters")
    url, slack_file = block.get("image_url"), block.get("slack_file")
    if (url is None) == (slack_file is None):
        problems.append(f"{where}: exactly one of image_url and slack_file")
    if url is not None and len(str(url)) > limits.IMAGE_URL:
        problems.append(f"{where}: image_url longer than {limits.IMAGE_URL}")
    if slack_file is not None and (
        not isinstance(slack_file, dict) or ("id" in slack_file) == ("url" in slack_file)
    ):
        problems.append(f"{where}: slack_file needs exactly one of id and url")
    if block.get("title") is not None:
        problems += _plain(block.get("title"), where, "title", limits.IMAGE_ALT_TEXT)
    return problems


def block_problems(blocks: list[dict[str, Any]], *, max_blocks: int, surface: str = "message") -> Problems:
    """What Slack would reject in ``blocks`` on ``surface`` (``message``, ``modal`` or ``home``)."""
    problems: Problems = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks (at most {max_blocks})")
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"block {index} ({block.get('type')})"
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in block_ids:
                problems.append(f"{where}: duplicate block_id {block_id}")
            if len(block_id) > limits.ID:
                problems.append(f"{where}: block_id longer than {limits.ID}")
            block_ids.add(block_id)
        problems += _layout_problems(block, where, surface)
        problems += _text_objects(block, where)
        action_ids: set[str] = set()
        for element in _block_elements(block):
            action_id = element.get("action_id")
            if action_id is not None:
                if action_id in action_ids:
                    problems.append(f"{where}: duplicate action_id {action_id}")
                action_ids.add(action_id)
            problems += element_problems(element, where)
    return problems


def view_problems(view: dict[str, Any]) -> Problems:
    """A modal or Home tab view: https://docs.slack.dev/reference/views — title/submit/close plain_text ≤24, metadata ≤3000."""
    surface = "home" if view.get("type") == "home" else "modal"
    blocks = view.get("blocks") or []
    problems = block_problems(blocks, max_blocks=limits.VIEW_BLOCKS, surface=surface)
    for name in ("title", "submit", "close"):
        problems += _plain(view.get(name), "view", name, limits.VIEW_TITLE)
        problems += _text_objects(view.get(name), "view")
    if surface == "modal" and any(b.get("type") == "input" for b in blocks) and not view.get("submit"):
        problems.append("view: a modal with input blocks needs a submit button")
    if len(str(view.get("private_metadata") or "")) > limits.PRIVATE_METADATA:
        problems.append(f"private_metadata longer than {limits.PRIVATE_METADATA}")
    if len(str(view.get("callback_id") or "")) > limits.ID:
        problems.append(f"callback_id longer than {limits.ID}")
    return problems


def options_problems(response: dict[str, Any]) -> Problems:
    """An answer to a ``block_suggestion`` (external select) request.

    https://api.slack.com/reference/interaction-payloads/block-suggestion — "a maximum of 100 options or
    option groups"; each an option object with plain_text text.
    """
    problems: Problems = []
    options = response.get("options")
    groups = response.get("option_groups")
    if options is None and groups is None:
        return ["options response has neither options nor option_groups"]
    if len(options or []) > limits.SELECT_OPTIONS or len(groups or []) > limits.SELECT_OPTIONS:
        problems.append(f"options response has more than {limits.SELECT_OPTIONS} options")
    every = list(options or []) + [o for g in groups or [] for o in g.get("options") or []]
    for option in every:
        problems += _option_problems(option, "options response", plain_only=True, overflow=False)
        problems += _text_objects(option, "options response")
    return problems
