"""Slack's Block Kit limits, spelled once: the builders keep to them and the stand-in Slack enforces them.

Sources: https://docs.slack.dev/reference/block-kit (each block, element and composition object page) and
https://docs.slack.dev/reference/views (titles, private_metadata).
"""

from __future__ import annotations

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
TEXT = 3000  # any text object: 1 to 3000 characters
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
LABEL = 2000  # input block label and hint
PLACEHOLDER = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
URL = 3000
ID = 255  # action_id, block_id, callback_id
OPTION_TEXT = 75
OPTION_VALUE = 150
OVERFLOW_MIN = 2
OVERFLOW_MAX = 5
SELECT_OPTIONS = 100  # static selects and an options (block_suggestion) response
CHOICE_OPTIONS = 10  # checkboxes, radio buttons
INPUT = 3000  # plain_text_input max_length
VIEW_TITLE = 24
PRIVATE_METADATA = 3000
IMAGE_ALT_TEXT = (
    2000  # image block alt_text and title (https://docs.slack.dev/reference/block-kit/blocks/image-block)
)
IMAGE_URL = 3000
