"""The stand-in Slack refuses what Slack refuses: each rule, driven with a real slack_sdk WebClient.

Each test names the Slack error it expects; the doc page behind every rule is cited where the
stand-in enforces it (bot/demo/workspace.py, bot/demo/simulator.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.demo.clock import Clock
from bot.demo.simulator import BOT_ID, BOT_USER_ID, FakeSlack, event_body, with_enterprise
from tests.harness import TEAM, SlackHarness


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.fromtimestamp(1_795_000_000, UTC))


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    fake.clock = clock.monotonic
    fake.add_user("UALICE", tz="Europe/Berlin", locale="en-US")
    fake.add_user("UBOB")
    fake.add_channel("CMEMBER", name="acme", members=["UALICE"])
    fake.add_channel("CPUBLIC", name="town-square", is_member=False, members=["UALICE"])
    fake.add_channel("GPRIVATE", name="secret", is_private=True, is_member=False)
    fake.add_channel("GINVITED", name="leads", is_private=True, members=["UALICE"])
    fake.add_channel("CARCHIVED", name="old", is_archived=True)
    yield fake
    fake.stop()


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url)


def error_of(call: Any, **kwargs: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        call(**kwargs)
    return str(caught.value.response["error"])


def upload(client: WebClient, channel: str) -> Any:
    return client.files_upload_v2(channel=channel, filename="a.txt", content=b"hello", title="A")


# -- posting, updating, uploading ----------------------------------------------------------------


def test_a_post_lands_only_where_the_bot_can_post(fake: FakeSlack, client: WebClient) -> None:
    post = client.chat_postMessage
    assert error_of(post, channel="CNOWHERE", text="x") == "channel_not_found"
    assert error_of(post, channel="GPRIVATE", text="x") == "channel_not_found"  # it cannot see it
    assert error_of(post, channel="CARCHIVED", text="x") == "is_archived"
    assert post(channel="CMEMBER", text="in")["ok"]
    assert post(channel="GINVITED", text="invited")["ok"]
    # chat:write.public lets the bot post in public channels it has not joined …
    assert post(channel="CPUBLIC", text="public")["ok"]
    assert [m["text"] for m in fake.posted()] == ["in", "invited", "public"]
    # … and without it Slack says not_in_channel.
    fake.state.scopes = tuple(s for s in fake.state.scopes if s != "chat:write.public")
    assert error_of(post, channel="CPUBLIC", text="x") == "not_in_channel"
    assert len(fake.posted()) == 3


def test_text_longer_than_40000_characters_is_refused(fake: FakeSlack, client: WebClient) -> None:
    assert error_of(client.chat_postMessage, channel="CMEMBER", text="x" * 40_001) == "msg_too_long"
    assert client.chat_postMessage(channel="CMEMBER", text="x" * 40_000)["ok"]
    ts = fake.posted("CMEMBER")[0]["ts"]
    assert error_of(client.chat_update, channel="CMEMBER", ts=ts, text="y" * 40_001) == "msg_too_long"


@pytest.mark.parametrize(
    "metadata",
    [
        {"event_payload": {"key": "k"}},
        {"event_type": "aftercare_delivery"},
        {"event_type": "aftercare_delivery", "event_payload": "k"},
        "not json",
    ],
)
def test_metadata_needs_an_event_type_and_an_event_payload(client: WebClient, metadata: Any) -> None:
    refused = error_of(client.chat_postMessage, channel="CMEMBER", text="x", metadata=metadata)
    assert refused == "invalid_metadata_format"


def test_metadata_is_kept_with_the_message(fake: FakeSlack, client: WebClient) -> None:
    metadata = {"event_type": "aftercare_delivery", "event_payload": {"key": "digest:1"}}
    client.chat_postMessage(channel="CMEMBER", text="x", metadata=metadata)
    assert fake.posted("CMEMBER")[0]["metadata"] == metadata


def test_an_update_needs_the_bots_own_existing_message_and_really_updates_it(
    fake: FakeSlack, client: WebClient
) -> None:
    ts = str(client.chat_postMessage(channel="CMEMBER", text="before")["ts"])
    fake.record_message(
        "CMEMBER", {"type": "message", "ts": "1795000000.000900", "user": "UALICE", "text": "hi"}
    )
    update = client.chat_update
    assert error_of(update, channel="CMEMBER", ts="1795000000.999999", text="x") == "message_not_found"
    assert error_of(update, channel="CMEMBER", ts="1795000000.000900", text="x") == "cant_update_message"
    assert error_of(update, channel="CNOWHERE", ts=ts, text="x") == "channel_not_found"
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "after"}}]
    answer = update(channel="CMEMBER", ts=ts, text="after", blocks=blocks)
    assert (answer["ts"], answer["message"]["text"]) == (ts, "after")
    stored = fake.posted("CMEMBER")
    assert [(m["text"], m.get("blocks")) for m in stored if m["ts"] == ts] == [("after", blocks)]
    assert [m["text"] for m in stored if m["ts"] == "1795000000.000900"] == ["hi"]


def test_a_dm_is_updated_through_its_conversation_id_not_the_user_id(
    fake: FakeSlack, client: WebClient
) -> None:
    sent = client.chat_postMessage(channel="UBOB", text="hello")
    assert sent["channel"] == "D_UBOB"
    assert error_of(client.chat_update, channel="UBOB", ts=sent["ts"], text="x") == "channel_not_found"
    assert client.chat_update(channel="D_UBOB", ts=sent["ts"], text="edited")["ok"]
    assert [m["text"] for m in fake.posted("UBOB")] == ["edited"]


def test_an_archived_channels_messages_cannot_be_updated(fake: FakeSlack, client: WebClient) -> None:
    ts = str(client.chat_postMessage(channel="CMEMBER", text="x")["ts"])
    fake.state.channels["CMEMBER"].is_archived = True
    assert error_of(client.chat_update, channel="CMEMBER", ts=ts, text="y") == "is_inactive"


def test_an_ephemeral_message_needs_its_reader_in_the_channel(client: WebClient) -> None:
    assert client.chat_postEphemeral(channel="CMEMBER", user="UALICE", text="psst")["ok"]
    assert (
        error_of(client.chat_postEphemeral, channel="CMEMBER", user="UBOB", text="x") == "user_not_in_channel"
    )
    assert (
        error_of(client.chat_postEphemeral, channel="CNOWHERE", user="UALICE", text="x")
        == "channel_not_found"
    )


def test_a_file_is_shared_only_where_the_bot_is_a_member(fake: FakeSlack, client: WebClient) -> None:
    assert upload(client, "CMEMBER")["ok"]
    assert [f["channel"] for f in fake.uploads()] == ["CMEMBER"]
    # chat:write.public does not reach file shares.
    assert error_of(upload, client=client, channel="CPUBLIC") == "not_in_channel"
    assert error_of(upload, client=client, channel="CNOWHERE") == "invalid_channel"
    assert error_of(upload, client=client, channel="CARCHIVED") == "is_archived"
    assert [f["channel"] for f in fake.uploads()] == ["CMEMBER"]


# -- direct messages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "opened", "posted"),
    [
        ({"team_id": "T0CUSTOMER"}, "user_not_found", "channel_not_found"),
        ({"is_stranger": True, "team_id": "T0CUSTOMER"}, "user_not_found", "channel_not_found"),
        ({"deleted": True}, "user_disabled", "user_disabled"),
        ({"is_bot": True}, "cannot_dm_bot", "cannot_dm_bot"),
    ],
)
def test_no_dm_to_another_organisation_a_deactivated_account_or_a_bot(
    fake: FakeSlack, client: WebClient, person: dict[str, Any], opened: str, posted: str
) -> None:
    fake.add_user("UOTHER", **person)
    assert error_of(client.conversations_open, users="UOTHER") == opened
    assert error_of(client.chat_postMessage, channel="UOTHER", text="hi") == posted
    assert error_of(client.conversations_open, users="UNOBODY") == "user_not_found"
    assert fake.posted() == []


def test_a_dm_to_a_member_opens_and_lands(fake: FakeSlack, client: WebClient) -> None:
    assert client.conversations_open(users="UBOB")["channel"]["id"] == "D_UBOB"
    assert client.chat_postMessage(channel="UBOB", text="hello")["channel"] == "D_UBOB"
    assert [m["text"] for m in fake.posted("D_UBOB")] == ["hello"]
    info = client.conversations_info(channel="D_UBOB")["channel"]
    assert (info["is_im"], info["user"]) == (True, "UBOB")


def test_a_grid_colleague_of_another_workspace_is_reachable(fake: FakeSlack, client: WebClient) -> None:
    fake.script_install(enterprise_id="E0GRID")
    fake.add_user("WGRID", team_id="T0SISTER", enterprise_id="E0GRID")
    assert client.conversations_open(users="WGRID")["channel"]["id"] == "D_WGRID"


# -- channels ------------------------------------------------------------------------------------


def test_conversations_info_describes_sharing_archiving_and_membership(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.add_channel("CSHARED", is_ext_shared=True, is_shared=True)
    fake.add_channel("CPENDING", is_pending_ext_shared=True)
    fake.add_channel("CORG", is_org_shared=True)
    keys = (
        "is_ext_shared",
        "is_pending_ext_shared",
        "is_shared",
        "is_org_shared",
        "is_archived",
        "is_member",
    )

    def flags(channel: str) -> tuple[bool, ...]:
        info = client.conversations_info(channel=channel)["channel"]
        return tuple(info[k] for k in keys)

    assert flags("CSHARED") == (True, False, True, False, False, True)
    assert flags("CPENDING") == (False, True, False, False, False, True)
    assert flags("CORG") == (False, False, True, True, False, True)
    assert flags("CARCHIVED") == (False, False, False, False, True, True)
    assert flags("CPUBLIC") == (False, False, False, False, False, False)
    assert client.conversations_info(channel="GINVITED")["channel"]["is_private"] is True
    assert error_of(client.conversations_info, channel="CNOWHERE") == "channel_not_found"
    assert error_of(client.conversations_info, channel="GPRIVATE") == "channel_not_found"


def test_conversations_info_fails_on_demand(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("conversations.info", status=429, retry_after=30)
    fake.fail("conversations.info", error="internal_error")
    with pytest.raises(SlackApiError) as limited:
        client.conversations_info(channel="CMEMBER")
    assert (limited.value.response.status_code, limited.value.response["error"]) == (429, "ratelimited")
    assert limited.value.response.headers["Retry-After"] == "30"
    with pytest.raises(SlackApiError) as internal:
        client.conversations_info(channel="CMEMBER")
    assert (internal.value.response.status_code, internal.value.response["error"]) == (200, "internal_error")
    assert client.conversations_info(channel="CMEMBER")["ok"]


def test_joining_works_for_public_channels_only(fake: FakeSlack, client: WebClient) -> None:
    assert client.conversations_join(channel="CPUBLIC")["channel"]["is_member"] is True
    assert fake.state.channels["CPUBLIC"].is_member
    assert error_of(client.conversations_join, channel="GINVITED") == "method_not_supported_for_channel_type"
    assert error_of(client.conversations_join, channel="GPRIVATE") == "channel_not_found"
    assert error_of(client.conversations_join, channel="CNOWHERE") == "channel_not_found"
    assert error_of(client.conversations_join, channel="CARCHIVED") == "is_archived"


# -- people --------------------------------------------------------------------------------------


def test_users_list_pages_this_organisation_only(fake: FakeSlack, client: WebClient) -> None:
    fake.add_user("UGONE", deleted=True)
    fake.add_user("UCUST", team_id="T0CUSTOMER")
    fake.add_user("USTRANGER", team_id="T0CUSTOMER", is_stranger=True)
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        page = client.api_call("users.list", params={"limit": 2, "cursor": cursor, "include_locale": "true"})
        seen += [m["id"] for m in page["members"]]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert (pages, sorted(seen)) == (2, sorted([BOT_USER_ID, "UALICE", "UBOB", "UGONE"]))
    alice = next(m for m in client.users_list(include_locale=True)["members"] if m["id"] == "UALICE")
    assert (alice["tz"], alice["locale"], alice["team_id"]) == ("Europe/Berlin", "en-US", "T0001")
    assert error_of(client.users_list, cursor="bm9wZQ==") == "invalid_cursor"


def test_users_info_answers_for_people_of_another_organisation(fake: FakeSlack, client: WebClient) -> None:
    fake.add_user("UCUST", team_id="T0CUSTOMER", enterprise_id="E0CUST", is_restricted=False)
    fake.add_user("UGUEST", is_restricted=True, is_ultra_restricted=True)
    customer = client.users_info(user="UCUST")["user"]
    assert (customer["team_id"], customer["enterprise_user"]["enterprise_id"]) == ("T0CUSTOMER", "E0CUST")
    guest = client.users_info(user="UGUEST")["user"]
    assert (guest["is_restricted"], guest["is_ultra_restricted"]) == (True, True)
    assert error_of(client.users_info, user="UNOBODY") == "user_not_found"


def test_users_list_is_rate_limited_as_tier_2(fake: FakeSlack, client: WebClient, clock: Clock) -> None:
    for _ in range(20):
        assert client.users_list()["ok"]
        clock.advance(seconds=1)
    with pytest.raises(SlackApiError) as limited:
        client.users_list()
    assert (limited.value.response.status_code, limited.value.response["error"]) == (429, "ratelimited")
    assert limited.value.response.headers["Retry-After"] == "40"
    # Another workspace (token) has its own budget.
    assert WebClient(token="xoxb-other", base_url=fake.url).users_list()["ok"]
    clock.advance(seconds=40)
    assert client.users_list()["ok"]


# -- installs and Grid -----------------------------------------------------------------------------


def test_oauth_answers_a_workspace_install_by_default(client: WebClient) -> None:
    answer = client.oauth_v2_access(client_id="c", client_secret="s", code="T0NEW")
    assert (answer["team"]["id"], answer["enterprise"], answer["is_enterprise_install"]) == (
        "T0NEW",
        None,
        False,
    )


def test_oauth_can_answer_an_org_wide_grid_install(fake: FakeSlack, client: WebClient) -> None:
    fake.script_install(enterprise_id="E0GRID", is_enterprise_install=True)
    answer = client.oauth_v2_access(client_id="c", client_secret="s", code="x")
    assert (answer["team"], answer["enterprise"]["id"], answer["is_enterprise_install"]) == (
        None,
        "E0GRID",
        True,
    )


def test_grid_request_bodies_carry_the_org() -> None:
    body = json.loads(
        event_body({"type": "app_home_opened", "user": "UALICE"}, team_id="T1", enterprise_id="E0GRID")
    )
    assert (body["enterprise_id"], body["is_enterprise_install"]) == ("E0GRID", False)
    assert body["authorizations"][0]["enterprise_id"] == "E0GRID"
    org_wide = json.loads(
        event_body({"type": "x"}, team_id="T1", enterprise_id="E0GRID", is_enterprise_install=True)
    )
    assert (org_wide["authorizations"][0]["team_id"], org_wide["is_enterprise_install"]) == (None, True)
    payload = with_enterprise({"type": "block_actions"}, enterprise_id="E0GRID", is_enterprise_install=True)
    assert (payload["enterprise"]["id"], payload["is_enterprise_install"]) == ("E0GRID", True)


# -- transient errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("error", ["internal_error", "fatal_error", "service_unavailable", "request_timeout"])
def test_a_transient_error_can_follow_an_accepted_post(
    fake: FakeSlack, client: WebClient, error: str
) -> None:
    fake.fail("chat.postMessage", error=error, accept=True)
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="CMEMBER", text="maybe")
    assert (caught.value.response.status_code, caught.value.response["error"]) == (200, error)
    assert [m["text"] for m in fake.posted("CMEMBER")] == ["maybe"]  # it landed all the same


@pytest.mark.parametrize("status", [429, 500, 503])
def test_an_http_error_can_follow_an_accepted_post(fake: FakeSlack, client: WebClient, status: int) -> None:
    fake.fail("chat.postMessage", status=status, accept=True, retry_after=5 if status == 429 else None)
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="CMEMBER", text="maybe")
    assert caught.value.response.status_code == status
    assert [m["text"] for m in fake.posted("CMEMBER")] == ["maybe"]


def test_an_error_without_accept_posts_nothing(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("chat.postMessage", error="service_unavailable")
    assert error_of(client.chat_postMessage, channel="CMEMBER", text="no") == "service_unavailable"
    assert fake.posted() == []


def test_a_refused_accepted_call_still_is_refused(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("chat.postMessage", error="internal_error", accept=True)
    assert error_of(client.chat_postMessage, channel="CNOWHERE", text="x") == "internal_error"
    assert fake.posted() == []


# -- the harness sets up a realistic workspace ---------------------------------------------------


def test_a_command_comes_from_an_existing_public_channel_the_bot_then_joins(slack: SlackHarness) -> None:
    slack.command("/project", "new ACME Acme Corp", channel="CFRESH")
    assert [c.args["channel"] for c in slack.fake.calls_to("conversations.join")] == ["CFRESH"]
    channel = slack.fake.state.channels["CFRESH"]
    assert (channel.is_member, channel.is_private, "UALICE" in channel.members) == (True, False, True)
    cards = [m for m in slack.fake.posted("CFRESH") if m.get("bot_id") == BOT_ID]
    assert cards, "the bot posted nothing in the channel it joined"
    assert slack.fake.workspace.users["UALICE"].team_id == TEAM


def test_a_grid_event_goes_through_the_real_app(slack: SlackHarness) -> None:
    event = {"type": "app_home_opened", "user": "UALICE", "channel": "D_UALICE", "tab": "home"}
    assert slack.event(event, enterprise_id="E0GRID").status == 200
    [published] = slack.fake.calls_to("views.publish")
    assert published.args["user_id"] == "UALICE"


# -- reactions.get (the intake emoji reads the message it is on) -------------------------------------------


def test_reactions_get_answers_the_message_with_its_reactions(fake: FakeSlack, client: WebClient) -> None:
    fake.record_message(
        "CPUBLIC", {"type": "message", "user": "UALICE", "text": "VPN drops", "ts": "1795000000.000100"}
    )
    fake.add_reaction("CPUBLIC", "1795000000.000100", "ticket", "UBOB")
    answer = client.reactions_get(channel="CPUBLIC", timestamp="1795000000.000100", full=True)
    assert (answer["type"], answer["channel"]) == ("message", "CPUBLIC")
    message = answer["message"]
    assert (message["text"], message["user"]) == ("VPN drops", "UALICE")
    assert message["reactions"] == [{"name": "ticket", "users": ["UBOB"], "count": 1}]
    assert message["permalink"].endswith("/archives/CPUBLIC/p1795000000000100")


def test_reactions_get_refuses_what_slack_refuses(fake: FakeSlack, client: WebClient) -> None:
    fake.record_message(
        "GPRIVATE", {"type": "message", "user": "UALICE", "text": "x", "ts": "1795000000.000200"}
    )
    assert (
        error_of(client.reactions_get, channel="CMEMBER", timestamp="1795000000.999999")
        == "message_not_found"
    )
    assert (
        error_of(client.reactions_get, channel="GPRIVATE", timestamp="1795000000.000200")
        == "channel_not_found"
    )
    assert error_of(client.reactions_get, channel="CMEMBER", timestamp="yesterday") == "bad_timestamp"
    assert error_of(client.reactions_get, channel="CMEMBER") == "no_item_specified"
    fake.state.scopes = tuple(s for s in fake.state.scopes if s != "reactions:read")
    fake.record_message(
        "CMEMBER", {"type": "message", "user": "UALICE", "text": "x", "ts": "1795000000.000300"}
    )
    assert error_of(client.reactions_get, channel="CMEMBER", timestamp="1795000000.000300") == "missing_scope"


def test_a_slack_connect_event_carries_the_other_organisations_team_at_the_top() -> None:
    body = json.loads(
        event_body(
            {"type": "message", "user": "UCUST", "user_team": "TCUST"},
            team_id=TEAM,
            source_team="TCUST",
            ext_shared=True,
        )
    )
    assert (body["team_id"], body["is_ext_shared_channel"]) == ("TCUST", True)
    assert body["authorizations"][0]["team_id"] == TEAM
