"""A document's file, uploaded through the delivery ledger without ever being uploaded twice.

Slack's upload has three steps (https://docs.slack.dev/messaging/working-with-files#uploading_files):
``files.getUploadURLExternal`` gives a file id and a URL, the bytes go to that URL, and
``files.completeUploadExternal`` shares the file in a conversation. The file id is stored with the
delivery before the upload is completed, so an upload that may have reached Slack (a timeout, a crash)
is looked up with ``files.info`` (https://docs.slack.dev/reference/methods/files.info): shared in the
conversation means done. A file that was never completed is never shown to anyone, so starting again
cannot double it.

The file follows its message: it waits while the report post is pending and is dropped when the post
failed for good (its channel refused it).
"""

from __future__ import annotations

import logging
import urllib.request
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery.outcomes import Outcome, failure_of
from bot.domain.documents import get_document, set_document_file
from bot.slack.services import Services
from storage import ledger
from storage.models import Delivery, DeliveryStatus

log = logging.getLogger(__name__)

UPLOAD_TIMEOUT = 30  # seconds for the bytes
# How long a file waits for its message before it is tried again.
WAIT_FOR_POST = 30.0


def _conversation(client: WebClient, channel: str) -> str:
    """Files are shared in conversations: a DM's id comes from ``conversations.open``."""
    if not channel.startswith(("U", "W")):
        return channel
    opened = client.conversations_open(users=channel)
    return str((opened.get("channel") or {}).get("id") or channel)


def _file_info(client: WebClient, file_id: str) -> tuple[set[str], str | None] | None:
    """Where a file is shared and its permalink; None when Slack does not know it (never completed, deleted)."""
    try:
        info: dict[str, Any] = dict(client.files_info(file=file_id).get("file") or {})
    except SlackApiError as exc:
        if exc.response.get("error") == "file_not_found":
            return None
        raise
    shared = {str(c) for key in ("channels", "groups", "ims") for c in info.get(key) or []}
    return shared, (str(info["permalink"]) if info.get("permalink") else None)


def _post_state(services: Services, delivery: Delivery) -> tuple[str | None, str | None]:
    """Status and error of the message this file follows (the same key with ``:post`` for ``:file``)."""
    with services.db.read() as session:
        post = ledger.by_key(session, key=delivery.key.replace(":file", ":post", 1))
        return (post.status, post.error) if post else (DeliveryStatus.SENT, None)


def send_bytes(
    services: Services, client: WebClient, delivery: Delivery, *, filename: str, data: bytes
) -> str:
    """The first two steps of an upload; the file id is stored with the delivery before the bytes go."""
    started = client.files_getUploadURLExternal(filename=filename, length=len(data))
    file_id = str(started["file_id"])
    with services.db.write() as session:
        ledger.note_file(session, delivery_id=delivery.id, file_id=file_id)
    request = urllib.request.Request(str(started["upload_url"]), data=data, method="POST")
    with urllib.request.urlopen(request, timeout=UPLOAD_TIMEOUT) as answer:
        answer.read()
    return file_id


def upload(services: Services, client: WebClient, delivery: Delivery) -> Outcome:
    """Upload the delivery's document as a file in its conversation. ``ts`` of a done upload is the file id."""
    spec = delivery.payload.get("file") or {}
    status, error = _post_state(services, delivery)
    if status == DeliveryStatus.FAILED:
        return Outcome(
            error=f"not uploaded: the report itself could not be posted ({error})", permanent=True, quiet=True
        )
    if status != DeliveryStatus.SENT:
        return Outcome(error="waiting for the report to be posted", retry_after=WAIT_FOR_POST)
    try:
        conversation = _conversation(client, delivery.channel)
        if delivery.file_id:
            known = _file_info(client, delivery.file_id)
            if known is not None and conversation in known[0]:
                _note_document(services, delivery, spec, delivery.file_id, known[1])
                return Outcome(ts=delivery.file_id, channel=conversation)
        with services.db.read() as session:
            document = get_document(
                session, team_id=delivery.team_id, document_id=int(spec.get("document", 0))
            )
        if document is None:
            return Outcome(error="document_not_found", permanent=True)
        data = document.content.encode("utf-8")
        file_id = send_bytes(services, client, delivery, filename=str(spec.get("filename")), data=data)
        client.files_completeUploadExternal(
            files=[{"id": file_id, "title": str(spec.get("title") or spec.get("filename"))}],
            channel_id=conversation,
            initial_comment=str(delivery.payload.get("text") or ""),
        )
    except Exception as exc:
        return failure_of(exc)
    try:  # its permalink, as Slack gives it (the document index asks again when it lists it)
        permalink = (_file_info(client, file_id) or (set(), None))[1]
    except Exception as exc:
        log.warning("files.info %s failed: %s", file_id, exc)
        permalink = None
    _note_document(services, delivery, spec, file_id, permalink)
    return Outcome(ts=file_id, channel=conversation)


def _note_document(
    services: Services, delivery: Delivery, spec: dict[str, Any], file_id: str, permalink: str | None
) -> None:
    with services.db.write() as session:
        set_document_file(
            session,
            team_id=delivery.team_id,
            document_id=int(spec.get("document", 0)),
            file_id=file_id,
            permalink=permalink,
        )
