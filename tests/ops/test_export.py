"""`aftercare export`: the public JSON format, and CSV files per kind."""

import csv
import json
from datetime import datetime
from pathlib import Path

from bot.ops.export import SECTIONS, export_data, write_csv
from tests.harness import SlackHarness


def test_export_carries_projects_and_records_in_the_public_format(
    project: SlackHarness, tmp_path: Path
) -> None:
    project.command("/issue", "new Printer jams <@UBOB|bob> due:2026-12-01 !high")
    project.command("/req", "new CSV export")
    project.command("/task", "new Manual est:1.5h")
    project.command("/risk", "new Supplier p:2 i:5")
    with project.db.read() as session:
        data = export_data(session)
    assert list(data) == list(SECTIONS)
    assert data["meetings"] == [] and data["surveys"] == [] and data["history"] == []

    [acme] = data["projects"]
    for field in ("key", "name", "team_id", "channel_id", "report_channel_id", "status", "timezone", "locale",
                  "owners", "customer_contacts"):  # fmt: skip
        assert field in acme
    [issue] = data["issues"]
    assert issue["key"] == "ACME-1" and issue["project"] == "ACME" and issue["team_id"] == "T0001"
    assert (issue["assignee_id"], issue["due_date"], issue["priority"], issue["status"]) == (
        "UBOB", "2026-12-01", "high", "open",
    )  # fmt: skip
    assert issue["created_by"] == "UALICE" and issue["source_url"] is None
    assert datetime.fromisoformat(issue["created_at"]).utcoffset() is not None
    assert data["requirements"][0]["status"] == "proposed"
    assert data["tasks"][0]["estimate_hours"] == 1.5
    risk = data["risks"][0]
    assert (risk["probability"], risk["impact"], risk["score"], risk["mitigation"]) == (2, 5, 10, None)

    files = write_csv(data, tmp_path / "out")
    assert sorted(p.name for p in files) == sorted(f"{s}.csv" for s in SECTIONS)
    with (tmp_path / "out" / "projects.csv").open(encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert json.loads(row["owners"]) == ["UALICE"]


def test_export_filters_by_project_and_team(project: SlackHarness) -> None:
    project.command("/project", "new BETA Beta", channel="CBETA")
    project.command("/issue", "new In beta", channel="CBETA")
    project.command("/issue", "new In acme")
    with project.db.read() as session:
        beta = export_data(session, project_key="BETA")
        other_team = export_data(session, team_id="T9999")
    assert [i["title"] for i in beta["issues"]] == ["In beta"]
    assert [p["key"] for p in beta["projects"]] == ["BETA"]
    assert all(other_team[s] == [] for s in SECTIONS)
