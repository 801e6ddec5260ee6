"""`aftercare check` names every scope the token lacks and every app setting a manifest lacks, and exits 1."""

from __future__ import annotations

from pathlib import Path

import yaml
from slack_sdk import WebClient
from sqlalchemy import update

from bot.demo.simulator import FakeSlack
from bot.ops.check import run_check
from bot.slack import ids
from bot.slack.manifest import build_manifest, render_manifest
from storage.models import Project
from tests.harness import SlackHarness
from tests.ops.test_cli import check_settings, migrated, output, problem_lines, run

__all__ = ["migrated"]  # the fixture, for these tests


def test_check_names_each_setting_the_manifest_lacks(
    tmp_path: Path, fake_slack: FakeSlack, migrated: Path
) -> None:
    manifest = build_manifest()
    manifest["oauth_config"]["scopes"]["bot"].remove("files:read")
    manifest["settings"]["event_subscriptions"]["bot_events"].remove(ids.EVENT_USER_CHANGE)
    manifest["settings"]["interactivity"]["is_enabled"] = False
    manifest["settings"]["org_deploy_enabled"] = False
    manifest["features"]["slash_commands"] = [
        c for c in manifest["features"]["slash_commands"] if c["command"] != ids.CMD_RISK
    ]
    manifest["features"]["slash_commands"][0]["should_escape"] = False
    manifest["features"]["shortcuts"] = manifest["features"]["shortcuts"][1:]
    (tmp_path / "manifest.yml").write_text(yaml.safe_dump(manifest), encoding="utf-8")

    result = run(["check"], tmp_path, check_settings(fake_slack))

    assert result.returncode == 1, output(result)
    problems = "\n".join(problem_lines(result))
    for expected in (
        "lacks bot scope files:read",
        f"lacks bot event {ids.EVENT_USER_CHANGE}",
        "lacks interactivity",
        "lacks org_deploy_enabled: true",
        f"lacks slash command {ids.CMD_RISK}",
        f"lacks slash command {ids.CMD_PROJECT} with should_escape: true",
        f"lacks message shortcut {ids.SHORTCUT_LOG_REQUIREMENT}",
    ):
        assert expected in problems, problems
    assert len(problem_lines(result)) == 7, problems


def test_check_passes_the_manifest_the_bot_prints(
    tmp_path: Path, fake_slack: FakeSlack, migrated: Path
) -> None:
    path = tmp_path / "app.yml"
    path.write_text(render_manifest(url="https://aftercare.example.com"), encoding="utf-8")
    result = run(["check", "--manifest", str(path)], tmp_path, check_settings(fake_slack))
    assert result.returncode == 0, output(result)
    assert f"app manifest {path} has every setting the bot needs" in result.stdout


def test_check_names_a_report_channel_with_a_guest_in_it(project: SlackHarness) -> None:
    """The audience policy's answer, as check gives it: a guest makes the report channel shared."""
    project.fake.add_user("UALICE")
    project.fake.add_user("UGUEST", is_restricted=True)
    project.fake.add_channel("CREPORT", members=["UALICE", "UGUEST"])
    project.fake.add_channel("CINTERNAL", members=["UALICE"])
    with project.db.write() as session:
        session.execute(update(Project).values(report_channel_id="CREPORT"))
    client = lambda token: WebClient(token=token, base_url=project.fake.url)  # noqa: E731
    report = run_check(project.settings, client=client)
    [problem] = [p for p in report.problems if "report channel" in p]
    assert "project ACME: its report channel CREPORT has guests or customer contacts" in problem

    with project.db.write() as session:
        session.execute(update(Project).values(report_channel_id="CINTERNAL"))
    assert not [p for p in run_check(project.settings, client=client).problems if "report channel" in p]
