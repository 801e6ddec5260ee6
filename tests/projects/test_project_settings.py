"""`/project settings`: the modal opens prefilled, saves every setting, and refuses bad values in place."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.people import upsert_member
from bot.ops.export import export_data
from bot.slack import ids
from storage.models import Project
from tests.harness import TEAM, SlackHarness, acked_before

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SETTING_COLUMNS = (
    "report_channel_id", "timezone", "locale", "digest_weekday", "digest_time", "nudges_enabled",
    "escalate_after_days", "review_weekday", "review_time", "review_every_weeks", "survey_pulse_days",
    "survey_open_days", "survey_include_team",
)  # fmt: skip


def _open(slack: SlackHarness, user: str = "UALICE") -> dict[str, Any]:
    slack.fake.reset_calls()
    slack.command("/project", "settings", user=user)
    return slack.opened_view()


def _inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


def _state(view: dict[str, Any], **changes: Any) -> dict[str, dict[str, Any]]:
    """What Slack submits: every element's initial value, with ``changes`` (plain values) applied."""
    values: dict[str, dict[str, Any]] = {}
    for field, element in _inputs(view).items():
        kind = element["type"]
        state: dict[str, Any] = {"type": kind}
        given = changes.get(field, ...)
        if kind == "multi_users_select":
            state["selected_users"] = element.get("initial_users", []) if given is ... else given
        elif kind == "conversations_select":
            state["selected_conversation"] = element.get("initial_conversation") if given is ... else given
        elif kind == "static_select":
            if given is ...:
                state["selected_option"] = element.get("initial_option")
            else:
                [option] = [o for o in element["options"] if o["value"] == str(given)] or [
                    {"text": {"type": "plain_text", "text": "?"}, "value": str(given)}
                ]
                state["selected_option"] = option
        elif kind == "timepicker":
            state["selected_time"] = element.get("initial_time") if given is ... else given
        elif kind == "checkboxes":
            if given is ...:
                state["selected_options"] = element.get("initial_options", [])
            else:
                state["selected_options"] = element["options"] if given else []
        else:
            state["value"] = element.get("initial_value") if given is ... else given
        values[field] = {element["action_id"]: state}
    return values


def _row(slack: SlackHarness) -> dict[str, Any]:
    with slack.db.read() as session:
        project = session.scalar(select(Project).where(Project.key == "ACME"))
        assert project is not None
        return {name: getattr(project, name) for name in SETTING_COLUMNS}


def _exported(slack: SlackHarness) -> dict[str, Any]:
    with slack.db.read() as session:
        data = export_data(session, team_id=TEAM, project_key="ACME")
    return {"project": data["projects"][0], "history": data["history"]}


def _make_admin(slack: SlackHarness, user_id: str = "UADMIN") -> None:
    with slack.db.write() as session:
        upsert_member(session, team_id=TEAM, member={"id": user_id, "is_admin": True}, now=NOW)


def test_the_modal_opens_prefilled_with_every_setting(project: SlackHarness) -> None:
    view = _open(project)
    assert view["callback_id"] == ids.VIEW_PROJECT_SETTINGS
    inputs = _inputs(view)
    assert tuple(inputs) == ids.SETTINGS_FIELDS
    assert all(e["action_id"] == f"{field}_input" for field, e in inputs.items())
    assert inputs["owners"]["initial_users"] == ["UALICE"]
    assert "initial_users" not in inputs["customer_contacts"]
    assert "initial_conversation" not in inputs["report_channel"]
    assert inputs["report_channel"]["filter"]["exclude_external_shared_channels"] is True
    assert inputs["timezone"]["initial_value"] == "UTC"
    assert inputs["locale"]["initial_option"]["value"] == "en"
    assert inputs["digest_weekday"]["initial_option"]["value"] == "0"
    assert inputs["digest_weekday"]["initial_option"]["text"]["text"] == "Monday"
    assert inputs["digest_time"]["initial_time"] == "09:00"
    assert len(inputs["nudges_enabled"]["initial_options"]) == 1
    assert inputs["escalate_after_days"]["initial_value"] == "3"
    assert inputs["review_weekday"]["initial_option"]["text"]["text"] == "Thursday"
    assert inputs["review_time"]["initial_time"] == "10:00"
    assert inputs["review_every_weeks"]["initial_option"]["value"] == "1"
    assert inputs["survey_pulse_days"]["initial_option"]["value"] == "0"
    assert inputs["survey_open_days"]["initial_value"] == "7"
    assert "initial_options" not in inputs["survey_include_team"]
    assert "Acme Corp after-sales" in view["blocks"][0]["elements"][0]["text"]


def test_saving_unchanged_values_changes_nothing(project: SlackHarness) -> None:
    view = _open(project)
    before = _row(project)
    response = project.submit_view(view, _state(view))
    assert (response.status, response.body) == (200, "")
    assert _row(project) == before
    assert _exported(project)["history"] == []
    [confirmation] = project.fake.calls_to("chat.postEphemeral")
    assert "Nothing changed" in confirmation.args["text"]


def test_every_change_is_stored_exported_and_kept_in_history(project: SlackHarness) -> None:
    project.services.clock = lambda: NOW
    project.fake.add_channel("CINT", name="acme-internal")
    view = _open(project)
    project.fake.reset_calls()
    response = project.submit_view(
        view,
        _state(
            view,
            owners=["UALICE", "UBOB"],
            customer_contacts=["UCUST"],
            report_channel="CINT",
            timezone=" asia/shanghai ",
            locale="zh-CN",
            digest_weekday=4,
            digest_time="17:30",
            nudges_enabled=False,
            escalate_after_days="5",
            review_weekday=1,
            review_time="11:00",
            review_every_weeks=2,
            survey_pulse_days=30,
            survey_open_days="10",
            survey_include_team=True,
        ),
    )
    assert (response.status, response.body) == (200, "")
    assert _row(project) == {
        "report_channel_id": "CINT",
        "timezone": "Asia/Shanghai",
        "locale": "zh-CN",
        "digest_weekday": 4,
        "digest_time": "17:30",
        "nudges_enabled": False,
        "escalate_after_days": 5,
        "review_weekday": 1,
        "review_time": "11:00",
        "review_every_weeks": 2,
        "survey_pulse_days": 30,
        "survey_open_days": 10,
        "survey_include_team": True,
    }
    exported = _exported(project)
    p = exported["project"]
    assert (p["owners"], p["customer_contacts"]) == (["UALICE", "UBOB"], ["UCUST"])
    assert (p["report_channel_id"], p["timezone"], p["locale"]) == ("CINT", "Asia/Shanghai", "zh-CN")
    changes = {(h["field"], h["old"], h["new"]) for h in exported["history"]}
    assert {
        ("owners", "UALICE", "UALICE,UBOB"),
        ("customer_contacts", None, "UCUST"),
        ("report_channel_id", None, "CINT"),
        ("timezone", "UTC", "Asia/Shanghai"),
        ("locale", "en", "zh-CN"),
        ("nudges_enabled", "true", "false"),
        ("survey_pulse_days", "0", "30"),
    } <= changes
    assert len(changes) == 15
    assert {(h["record"], h["by"], h["at"]) for h in exported["history"]} == {
        ("ACME", "UALICE", NOW.isoformat())
    }
    # One check of the report channel, and a confirmation only the person sees.
    assert [c.args["channel"] for c in project.fake.calls_to("conversations.info")] == ["CINT"]
    [confirmation] = project.fake.calls_to("chat.postEphemeral")
    assert (confirmation.args["channel"], confirmation.args["user"]) == ("CPROJ", "UALICE")
    assert "ACME" in confirmation.args["text"]
    assert project.fake.calls_to("chat.postMessage") == []

    # The form reopens with the new values (and in the new language).
    inputs = _inputs(_open(project))
    assert inputs["owners"]["initial_users"] == ["UALICE", "UBOB"]
    assert inputs["report_channel"]["initial_conversation"] == "CINT"
    assert inputs["digest_weekday"]["initial_option"]["text"]["text"] == "星期五"


def test_handing_the_project_over_removes_the_old_owner(project: SlackHarness) -> None:
    view = _open(project)
    project.submit_view(view, _state(view, owners=["UBOB"]))
    assert _exported(project)["project"]["owners"] == ["UBOB"]
    project.fake.reset_calls()
    project.command("/project", "settings", user="UALICE")
    assert "Only an owner of project ACME" in project.last_ephemeral()
    assert project.fake.calls_to("views.open") == []
    assert _inputs(_open(project, user="UBOB"))["owners"]["initial_users"] == ["UBOB"]


@pytest.mark.parametrize(
    ("changes", "field", "needle"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone", "Mars/Olympus is not a time zone I know"),
        ({"timezone": ""}, "timezone", "is not a time zone I know"),
        ({"owners": []}, "owners", "at least one owner"),
        ({"escalate_after_days": "0"}, "escalate_after_days", "from 1 to 30"),
        ({"escalate_after_days": "2.5"}, "escalate_after_days", "from 1 to 30"),
        ({"survey_open_days": "31"}, "survey_open_days", "from 1 to 30"),
        ({"digest_time": "25:00"}, "digest_time", "HH:MM"),
        ({"review_every_weeks": 3}, "review_every_weeks", "offered values"),
        ({"survey_pulse_days": 60}, "survey_pulse_days", "offered values"),
        ({"locale": "fr"}, "locale", "offered values"),
        ({"digest_weekday": 7}, "digest_weekday", "offered values"),
    ],
)
def test_invalid_values_are_shown_in_the_modal_and_nothing_is_saved(
    project: SlackHarness, changes: dict[str, Any], field: str, needle: str
) -> None:
    view = _open(project)
    before = _row(project)
    project.fake.reset_calls()
    response = project.submit_view(view, _state(view, report_channel="CINT", **changes))
    body = response.json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [field]
    assert needle in body["errors"][field]
    assert _row(project) == before and _exported(project)["history"] == []
    assert project.fake.calls == []  # no Slack call for a form that is wrong anyway


def test_several_bad_fields_are_reported_together(project: SlackHarness) -> None:
    view = _open(project)
    response = project.submit_view(view, _state(view, owners=[], timezone="Nowhere", digest_time="7pm"))
    assert set(response.json()["errors"]) == {"owners", "timezone", "digest_time"}


def test_a_channel_shared_with_another_organisation_is_refused_as_report_channel(
    project: SlackHarness,
) -> None:
    project.fake.add_channel("CSHARED", is_ext_shared=True)
    view = _open(project)
    before = _row(project)
    project.fake.reset_calls()
    with acked_before(project, "conversations.info") as acked:
        response = project.submit_view(view, _state(view, report_channel="CSHARED", timezone="Europe/Berlin"))
    # The form closes at once; Slack is asked about the channel only after that answer.
    assert (response.status, response.body) == (200, "")
    assert acked == [True]
    # Everything else is saved; the report channel is not.
    assert _row(project) == {**before, "timezone": "Europe/Berlin"}
    assert {(h["field"], h["new"]) for h in _exported(project)["history"]} == {("timezone", "Europe/Berlin")}
    [told] = project.fake.calls_to("chat.postEphemeral")
    assert told.args["user"] == "UALICE"
    assert "The report channel was not changed" in told.args["text"]
    assert "shared with another organisation" in told.args["text"]
    assert "Time zone" in told.args["text"]


def test_a_channel_being_shared_is_refused_too(project: SlackHarness) -> None:
    project.fake.responders["conversations.info"] = lambda args: {
        "ok": True,
        "channel": {
            "id": args["channel"],
            "is_channel": True,
            "is_member": True,
            "is_pending_ext_shared": True,
        },
    }
    view = _open(project)
    project.submit_view(view, _state(view, report_channel="CPENDING"))
    assert _row(project)["report_channel_id"] is None
    assert "shared with another organisation" in project.fake.calls_to("chat.postEphemeral")[-1].args["text"]


def test_a_private_report_channel_the_bot_cannot_see_is_refused(project: SlackHarness) -> None:
    project.fake.add_channel("GSECRET", is_private=True, is_member=False)
    view = _open(project)
    response = project.submit_view(view, _state(view, report_channel="GSECRET"))
    assert (response.status, response.body) == (200, "")
    assert _row(project)["report_channel_id"] is None
    [told] = project.fake.calls_to("chat.postEphemeral")
    assert "Nothing changed" in told.args["text"] and "Invite me" in told.args["text"]


def test_a_report_channel_that_cannot_be_checked_is_not_set_and_the_dm_says_so(project: SlackHarness) -> None:
    project.fake.fail("conversations.info", error="internal_error")
    project.fake.fail("chat.postEphemeral", error="channel_not_found")
    view = _open(project)
    project.submit_view(view, _state(view, report_channel="CINT"))
    assert _row(project)["report_channel_id"] is None
    [dm] = project.fake.calls_to("chat.postMessage")
    assert dm.args["channel"] == "UALICE"
    assert "I couldn't check that channel (internal_error)" in dm.args["text"]


def test_a_direct_message_is_refused_in_the_form_without_asking_slack(project: SlackHarness) -> None:
    view = _open(project)
    project.fake.reset_calls()
    response = project.submit_view(view, _state(view, report_channel="D0ALICE"))
    assert response.json()["errors"] == {"report_channel": "Choose a channel, not a direct message."}
    assert project.fake.calls == []


def test_an_unchanged_report_channel_is_not_asked_about_again(project: SlackHarness) -> None:
    project.fake.add_channel("CINT", name="acme-internal")
    view = _open(project)
    project.submit_view(view, _state(view, report_channel="CINT"))
    assert _row(project)["report_channel_id"] == "CINT"
    view = _open(project)
    project.submit_view(view, _state(view, timezone="Asia/Tokyo"))
    assert project.fake.calls_to("conversations.info") == []
    assert _row(project)["report_channel_id"] == "CINT"


def test_a_public_report_channel_is_joined_so_files_can_be_shared_there(project: SlackHarness) -> None:
    project.fake.add_channel("CINT", name="acme-internal", is_member=False)
    view = _open(project)
    project.fake.reset_calls()
    response = project.submit_view(view, _state(view, report_channel="CINT"))
    assert (response.status, response.body) == (200, "")
    assert [c.args["channel"] for c in project.fake.calls_to("conversations.join")] == ["CINT"]
    assert project.fake.state.channels["CINT"].is_member
    assert _row(project)["report_channel_id"] == "CINT"


def test_an_archived_report_channel_is_refused(project: SlackHarness) -> None:
    project.fake.add_channel("COLD", is_archived=True, is_member=False)
    view = _open(project)
    response = project.submit_view(view, _state(view, report_channel="COLD"))
    assert (response.status, response.body) == (200, "")
    assert "is_archived" in project.fake.calls_to("chat.postEphemeral")[-1].args["text"]
    assert _row(project)["report_channel_id"] is None


def test_a_bot_cannot_own_the_project(project: SlackHarness) -> None:
    with project.db.write() as session:
        upsert_member(session, team_id=TEAM, member={"id": "UROBOT", "is_bot": True}, now=NOW)
    view = _open(project)
    response = project.submit_view(view, _state(view, owners=["UALICE", "UROBOT"]))
    assert "UROBOT" in response.json()["errors"]["owners"]
    assert _exported(project)["project"]["owners"] == ["UALICE"]


def test_someone_who_is_not_an_owner_cannot_open_the_settings(project: SlackHarness) -> None:
    project.fake.reset_calls()
    project.command("/project", "settings", user="UBOB")
    assert "Only an owner of project ACME or a workspace admin" in project.last_ephemeral()
    assert project.fake.calls_to("views.open") == []
    assert project.fake.calls_to("chat.postMessage") == []


def test_a_submission_by_someone_who_is_not_an_owner_is_refused(project: SlackHarness) -> None:
    view = _open(project)
    before = _row(project)
    response = project.submit_view(view, _state(view, timezone="Asia/Tokyo"), user="UBOB")
    assert "Only an owner of project ACME" in response.json()["errors"]["owners"]
    assert _row(project) == before and _exported(project)["history"] == []


def test_a_workspace_admin_may_change_the_settings(project: SlackHarness) -> None:
    _make_admin(project)
    view = _open(project, user="UADMIN")
    project.fake.reset_calls()
    response = project.submit_view(view, _state(view, timezone="Asia/Tokyo"), user="UADMIN")
    assert (response.status, response.body) == (200, "")
    assert _row(project)["timezone"] == "Asia/Tokyo"
    assert [(h["field"], h["by"]) for h in _exported(project)["history"]] == [("timezone", "UADMIN")]
    [confirmation] = project.fake.calls_to("chat.postEphemeral")
    assert confirmation.args["user"] == "UADMIN"
    assert confirmation.args["text"].endswith("Changed:\n• Time zone")
    # The admin did not become an owner by saving.
    assert _exported(project)["project"]["owners"] == ["UALICE"]


def test_settings_of_an_unlinked_channel(slack: SlackHarness) -> None:
    slack.command("/project", "settings", channel="C9")
    assert "isn't linked to a project" in slack.last_ephemeral()
    assert slack.fake.calls_to("views.open") == []


def test_a_form_that_fails_to_open_is_reported(project: SlackHarness) -> None:
    project.fake.fail("views.open", error="expired_trigger_id")
    project.command("/project", "settings")
    assert "couldn't open the form (expired_trigger_id)" in project.last_ephemeral()


CUSTOMER_COLUMNS = (
    "intake", "intake_emoji", "thread_updates", "customer_report", "issue_csat", "business_hours", "holidays",
    "sla",
)  # fmt: skip


def _customer_row(slack: SlackHarness) -> dict[str, Any]:
    with slack.db.read() as session:
        project = session.scalar(select(Project).where(Project.key == "ACME"))
        assert project is not None
        return {name: getattr(project, name) for name in CUSTOMER_COLUMNS}


def test_customer_and_service_level_settings_open_prefilled_and_save(project: SlackHarness) -> None:
    project.services.clock = lambda: NOW
    view = _open(project)
    inputs = _inputs(view)
    assert inputs["intake"]["initial_option"]["value"] == "suggest"
    assert [o["value"] for o in inputs["intake"]["options"]] == ["off", "suggest", "auto"]
    assert inputs["intake_emoji"]["initial_value"] == "ticket"
    assert all(
        len(inputs[f]["initial_options"]) == 1 for f in ("thread_updates", "customer_report", "issue_csat")
    )
    assert inputs["business_hours"]["initial_value"] == "Mon-Fri 09:00-18:00"
    assert "initial_value" not in inputs["holidays"]
    assert inputs["sla"]["initial_value"] == "critical 1h/8h, high 4h/16h, medium 8h/40h, low 16h/80h"
    response = project.submit_view(
        view,
        _state(
            view, intake="auto", intake_emoji=":admission_tickets:", thread_updates=False, customer_report=False,
            issue_csat=False, business_hours="Mon-Thu 08:00-17:00,  Fri 08:00-12:00",
            holidays="2026-12-25, 2026-12-24", sla="critical 2h/6h, high 4h/16h, medium 8h/40h, low 24h/80h",
        ),
    )  # fmt: skip
    assert (response.status, response.body) == (200, "")
    assert _customer_row(project) == {
        "intake": "auto",
        "intake_emoji": "admission_tickets",
        "thread_updates": False,
        "customer_report": False,
        "issue_csat": False,
        "business_hours": "Mon-Thu 08:00-17:00, Fri 08:00-12:00",
        "holidays": ["2026-12-24", "2026-12-25"],
        "sla": {"first_response": {"critical": 2.0, "low": 24.0}, "resolution": {"critical": 6.0}},
    }
    exported = _exported(project)
    assert exported["project"]["sla"] == {
        "first_response": {"critical": 2.0, "low": 24.0},
        "resolution": {"critical": 6.0},
    }
    changes = {h["field"]: (h["old"], h["new"]) for h in exported["history"]}
    assert changes["holidays"] == (None, "2026-12-24,2026-12-25")
    assert changes["intake"] == ("suggest", "auto")
    # Reopened with the stored values; saving them unchanged changes nothing more.
    view = _open(project)
    inputs = _inputs(view)
    assert inputs["sla"]["initial_value"] == "critical 2h/6h, high 4h/16h, medium 8h/40h, low 24h/80h"
    assert inputs["holidays"]["initial_value"] == "2026-12-24, 2026-12-25"
    project.submit_view(view, _state(view))
    assert len(_exported(project)["history"]) == len(exported["history"])


@pytest.mark.parametrize(
    ("locale", "changes", "field", "needle"),
    [
        ("en", {"business_hours": "weekdays 9 to 6"}, "business_hours", "Write Day[-Day] HH:MM-HH:MM"),
        ("zh-CN", {"business_hours": "Mon-Fri 09:00-25:00"}, "business_hours", "不是有效的工作时间段"),
        ("en", {"holidays": "2026-12-25, Christmas"}, "holidays", "Christmas is not a date"),
        ("zh-CN", {"holidays": "12/25"}, "holidays", "不是日期"),
        ("en", {"sla": "urgent 1h/2h"}, "sla", "is not a service-level target"),
        ("zh-CN", {"sla": "critical 1h"}, "sla", "不是有效的服务级别目标"),
        ("en", {"intake_emoji": "my ticket!"}, "intake_emoji", "emoji name"),
    ],
)
def test_bad_customer_settings_are_refused_in_place_in_both_languages(
    project: SlackHarness, locale: str, changes: dict[str, Any], field: str, needle: str
) -> None:
    with project.db.write() as session:
        acme = session.scalar(select(Project).where(Project.key == "ACME"))
        assert acme is not None
        acme.locale = locale
    view = _open(project)
    before = _customer_row(project)
    response = project.submit_view(view, _state(view, **changes))
    body = response.json()
    assert list(body["errors"]) == [field]
    assert needle in body["errors"][field]
    assert _customer_row(project) == before and _exported(project)["history"] == []
