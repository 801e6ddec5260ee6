from tests.harness import SlackHarness


def test_issue_new_stores_record_and_posts_card(project: SlackHarness) -> None:
    response = project.command("/issue", "new Printer jams on tray 2 <@UBOB|bob> due:2026-12-01 !high")
    assert response.status == 200
    [record] = project.records()
    assert record.key == "ACME-1"
    posts = project.fake.calls_to("chat.postMessage")
    assert posts, project.fake.calls
    print(posts[0].args)
