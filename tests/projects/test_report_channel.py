"""A report channel set in ``/project settings`` is one the bot is in (joined when public), never a shared one."""

from __future__ import annotations

from tests.harness import SlackHarness
from tests.projects.test_project_settings import _open, _row, _state


def test_a_public_report_channel_is_joined_when_set(project: SlackHarness) -> None:
    project.fake.add_channel("CPUB", name="acme-internal", is_member=False)
    view = _open(project)
    response = project.submit_view(view, _state(view, report_channel="CPUB"))
    assert response.status == 200 and response.body == ""
    [join] = project.fake.calls_to("conversations.join")
    assert join.args["channel"] == "CPUB" and project.fake.state.channels["CPUB"].is_member
    assert _row(project)["report_channel_id"] == "CPUB"


def _refusal(project: SlackHarness) -> str:
    """What the person was told privately once the form closed (the check runs after the ack)."""
    return str(project.fake.calls_to("chat.postEphemeral")[-1].args["text"])


def test_a_report_channel_that_cannot_be_joined_is_refused(project: SlackHarness) -> None:
    project.fake.add_channel("CPUB", is_member=False)
    project.fake.fail("conversations.join", error="is_archived")
    view = _open(project)
    response = project.submit_view(view, _state(view, report_channel="CPUB"))
    assert (response.status, response.body) == (200, "")
    assert "I couldn't join this channel (is_archived)" in _refusal(project)
    assert _row(project)["report_channel_id"] is None


def test_a_private_report_channel_asks_for_an_invitation(project: SlackHarness) -> None:
    project.fake.add_channel("GPRIV", is_private=True, is_member=False)
    view = _open(project)
    response = project.submit_view(view, _state(view, report_channel="GPRIV"))
    assert (response.status, response.body) == (200, "")
    assert "Invite me to it first" in _refusal(project)
    assert project.fake.calls_to("conversations.join") == []
    assert _row(project)["report_channel_id"] is None


def test_a_channel_pending_a_share_with_another_organisation_is_refused(project: SlackHarness) -> None:
    project.fake.add_channel("CPENDING", is_pending_ext_shared=True)
    view = _open(project)
    project.submit_view(view, _state(view, report_channel="CPENDING"))
    assert "shared with another organisation" in _refusal(project)
    assert _row(project)["report_channel_id"] is None
