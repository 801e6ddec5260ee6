"""A report's chart on its way to Slack: drawn, uploaded privately, then shown in the message by file id.

The ledger keeps the chart's figures with the message (payload ``chart``); only the send draws it:
a dry run, a replanned digest and the CLI never render. Steps, per
https://docs.slack.dev/messaging/working-with-files#uploading_files:

1. ``files.getUploadURLExternal`` — the file id is stored with the delivery at once (``file_id``), so
   a send that is retried (in doubt, crashed) never uploads a second file;
2. the bytes to the upload URL;
3. ``files.completeUploadExternal`` *without* ``channel_id``: the file stays private to the bot and
   appears only in the message's image block;
4. ``files.info`` must see the file before the message refers to it (a ``slack_file`` that is not
   there makes Slack refuse the blocks, https://docs.slack.dev/reference/block-kit/composition-objects/slack-file-object).

Where uploads are not allowed (no ``files:write``, any upload error) the message goes without its
chart, with one warning in the log.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.basics import Block
from bot.blocks.charts import alt_text, chart_title, image_block, render_png
from bot.delivery.uploads import send_bytes
from bot.domain.charts import ChartSeries
from bot.slack import limits
from bot.slack.services import Services
from storage.models import Delivery

log = logging.getLogger("aftercare.jobs")

# files.info not seeing the uploaded file yet: the message waits (runner.WAIT_FOR_CHART) this many attempts, then goes without.
WAIT_ATTEMPTS = 3


def chart_spec(series: ChartSeries, *, locale: str, filename: str) -> dict[str, Any]:
    """What a planner puts in ``Outgoing.chart``."""
    return {"series": series.as_json(), "locale": locale, "filename": filename}


def _visible(client: WebClient, file_id: str) -> bool:
    """Slack knows the file and it is complete (an upload never completed is ``file_not_found``)."""
    try:
        client.files_info(file=file_id)
    except SlackApiError as exc:
        if exc.response.get("error") == "file_not_found":
            return False
        raise
    return True


def _upload(services: Services, client: WebClient, delivery: Delivery, spec: dict[str, Any]) -> str:
    series = ChartSeries.from_json(spec["series"])
    locale = str(spec.get("locale") or "en")
    data = render_png(series, locale)
    filename = str(spec.get("filename") or "chart.png")
    file_id = send_bytes(services, client, delivery, filename=filename, data=data)
    # No channel_id: the file is not shared anywhere; the image block shows it.
    client.files_completeUploadExternal(files=[{"id": file_id, "title": chart_title(locale)}])
    return file_id


def chart_blocks(services: Services, client: WebClient, delivery: Delivery) -> list[Block] | None:
    """The image block to add to the message; ``[]``: send it without a chart; None: not yet (look again)."""
    spec = delivery.payload.get("chart")
    if not spec or len(delivery.payload.get("blocks") or []) >= limits.MESSAGE_BLOCKS:
        return []
    locale = str(spec.get("locale") or "en")
    series = ChartSeries.from_json(spec["series"])
    try:
        # A file id stored by an earlier attempt is never replaced: one upload per message, whatever happens.
        file_id = delivery.file_id or _upload(services, client, delivery, spec)
        if not _visible(client, file_id):
            if delivery.attempts < WAIT_ATTEMPTS:
                return None
            log.warning("chart of %s: Slack does not show file %s; sent without it", delivery.key, file_id)
            return []
    except Exception as exc:
        log.warning("chart of %s not uploaded (%s); sent without it", delivery.key, _reason(exc))
        return []
    return [image_block(file_id, alt=alt_text(series, locale), title=chart_title(locale))]


def _reason(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return type(exc).__name__
