"""Who is internal (INTERFACE.md): members and Enterprise Grid colleagues are; guests, people of another
organisation and customer contacts are not; unknown people are not. Never decided from the top-level team."""

from __future__ import annotations

from sqlalchemy import select

from bot.domain.customers import Organisation, same_organisation
from bot.ops.export import export_data
from storage.models import Person, Project
from tests.harness import TEAM, SlackHarness
from tests.intake_story import (
    CHANNEL,
    CUSTOMER,
    CUSTOMER_TEAM,
    contacts,
    customer_says,
    posts_to,
    says,
    share_with_customer,
    stored,
    ts,
)
from tests.projects.test_project_settings import _open, _state


def _person(slack: SlackHarness, user_id: str) -> Person | None:
    with slack.db.read() as session:
        return session.scalar(select(Person).where(Person.user_id == user_id))


def _users_info(slack: SlackHarness, user_id: str) -> int:
    return len([c for c in slack.fake.calls_to("users.info") if c.args.get("user") == user_id])


def test_the_top_level_team_never_decides(project: SlackHarness) -> None:
    share_with_customer(project)
    # Slack Connect: the event may come with the other organisation's team_id at the top, or with ours.
    says(project, "UBOB", "Deploying the fix now", ts(1), source_team=CUSTOMER_TEAM)
    customer_says(project, "Server down", ts(2), source_team=TEAM)
    rows = stored(project)
    assert (rows[ts(1)].internal, rows[ts(2)].internal) == (True, False)
    # The customer's organisation came from Bolt's actor ids (user_team): Slack was not asked about them.
    assert _users_info(project, CUSTOMER) == 0
    assert contacts(project) == [CUSTOMER]


def test_a_guest_is_external_and_becomes_a_customer_contact(project: SlackHarness) -> None:
    project.fake.add_user("UGUEST", team_id=TEAM, is_restricted=True)
    project.event({"type": "message", "channel": CHANNEL, "channel_type": "channel", "user": "UGUEST",
                   "text": "The dashboard shows no data", "ts": ts(3)})  # fmt: skip
    assert stored(project)[ts(3)].internal is False and contacts(project) == ["UGUEST"]
    person = _person(project, "UGUEST")
    assert person is not None and person.is_guest is True  # the directory keeps what it learned
    assert len(posts_to(project, CHANNEL)) == 0 and len(posts_to(project, "UALICE")) == 1  # one triage card


def test_a_colleague_from_a_sibling_workspace_of_the_grid_is_internal(project: SlackHarness) -> None:
    share_with_customer(project)
    project.fake.add_user("UGRID", team_id="T0002", enterprise_id="E0001")
    for n, at in enumerate((ts(4), ts(5))):
        event = {"type": "message", "channel": CHANNEL, "channel_type": "channel", "user": "UGRID",
                 "user_team": "T0002", "team": "T0002", "text": "Looking into it", "ts": at}  # fmt: skip
        project.event(event, event_id=f"EvGrid{n}", enterprise_id="E0001", ext_shared=True)
    rows = stored(project)
    assert rows[ts(4)].internal is True and rows[ts(5)].internal is True
    assert contacts(project) == [] and posts_to(project, "UALICE") == []
    person = _person(project, "UGRID")
    assert person is not None and (person.home_team_id, person.home_enterprise_id) == ("T0002", "E0001")
    assert _users_info(project, "UGRID") == 1  # asked once; the directory answered the second time


def test_a_stranger_and_an_unknown_person(project: SlackHarness) -> None:
    project.fake.add_user("USTRANGER", team_id="TFAR", is_stranger=True)
    for user, at in (("USTRANGER", ts(6)), ("UGHOST", ts(7))):
        project.event({"type": "message", "channel": CHANNEL, "channel_type": "channel", "user": user,
                       "text": "Where is my order?", "ts": at}, event_id=f"Ev{user}")  # fmt: skip
    rows = stored(project)
    assert rows[ts(6)].internal is False and rows[ts(6)].triage == "suggested"
    # Nobody could tell who UGHOST is: not internal, but not made a customer contact or suggested either.
    assert rows[ts(7)].internal is None and rows[ts(7)].triage is None
    assert contacts(project) == ["USTRANGER"]


def test_an_owner_removes_a_contact_for_good(project: SlackHarness) -> None:
    share_with_customer(project)
    customer_says(project, "Server down", ts(8))
    assert contacts(project) == [CUSTOMER]
    view = _open(project)
    assert project.submit_view(view, _state(view, customer_contacts=[])).status == 200
    with project.db.read() as session:
        row = session.scalar(select(Project).where(Project.key == "ACME"))
        assert row is not None and row.removed_contacts == [CUSTOMER]
        exported = export_data(session, team_id=TEAM, project_key="ACME")["projects"][0]
    assert exported["removed_contacts"] == [CUSTOMER] and exported["customer_contacts"] == []
    customer_says(project, "Still down", ts(9))
    assert contacts(project) == []
    assert stored(project)[ts(9)].internal is False  # still the customer: removal only stops the learning
    # Added back by an owner: learning is allowed again.
    view = _open(project)
    project.submit_view(view, _state(view, customer_contacts=[CUSTOMER]))
    with project.db.read() as session:
        row = session.scalar(select(Project).where(Project.key == "ACME"))
        assert row is not None and row.removed_contacts == []


def test_same_organisation() -> None:
    grid = Organisation("T0001", "E0001")
    assert same_organisation(grid, team_id="T0001", enterprise_id=None) is True
    assert same_organisation(grid, team_id="T0002", enterprise_id="E0001") is True
    assert same_organisation(grid, team_id="E0001", enterprise_id=None) is True
    assert same_organisation(grid, team_id="TCUST", enterprise_id="E0999") is False
    assert same_organisation(Organisation("T0001"), team_id="T0002", enterprise_id="E0001") is False
    assert same_organisation(grid, team_id=None, enterprise_id=None) is None
