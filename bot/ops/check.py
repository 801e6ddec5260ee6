"""``aftercare check``: every problem with configuration, Slack and the database, in plain words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.delivery.audience import SharedChannels, project_audience
from bot.delivery.customer import unreachable_channels
from bot.ops.settings import Settings
from bot.slack import ids
from bot.slack.manifest import missing_settings
from bot.slack.services import Services
from storage import ledger, migrate, queries
from storage.db import Database
from storage.slack_tables import installations


@dataclass
class Report:
    ok: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"ok       {line}" for line in self.ok] + [f"PROBLEM  {line}" for line in self.problems]


def check_settings(settings: Settings, report: Report) -> None:
    problems = settings.problems()
    if not settings.slack_bot_token and not (settings.slack_client_id and settings.slack_client_secret):
        problems += settings.problems_for_api()
    if not settings.slack_signing_secret and not settings.slack_app_token:
        problems.append(
            "neither SLACK_SIGNING_SECRET (for `aftercare serve`) nor SLACK_APP_TOKEN (for `aftercare socket`) is set"
        )
    if problems:
        report.problems += problems
    else:
        report.ok.append("configuration")


def check_database(settings: Settings, report: Report) -> Database | None:
    shown = settings.database_url.split("@")[-1]
    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        return None  # already reported with the configuration
    database = url.database or ""
    if (
        url.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not Path(database).exists()
    ):
        report.ok.append(f"database {database} does not exist yet: it is created on the first start")
        return None
    try:
        db = Database(settings.database_url)
        db.ping()
    except Exception as exc:
        report.problems.append(f"the database cannot be opened ({shown}): {str(exc).splitlines()[0]}")
        return None
    current, head = migrate.current_revision(db), migrate.head_revision()
    if current != head:
        report.problems.append(
            f"the database schema is at {current or 'nothing'} but this version needs {head}: run `aftercare db upgrade`"
        )
    else:
        report.ok.append(f"database reachable, schema up to date ({head})")
        check_deliveries(db, report)
    return db


def check_deliveries(db: Database, report: Report) -> None:
    """Messages the ledger gave up on: each named with Slack's reason."""
    with db.read() as session:
        failed = ledger.failed(session, limit=20)
    for delivery in failed:
        report.problems.append(
            f"delivery {delivery.key} to {delivery.channel} failed: {delivery.error} "
            "(fix the channel or the bot's access; it is not retried)"
        )
    if not failed:
        report.ok.append("no failed deliveries")
    check_unreachable_customers(db, report)


def check_unreachable_customers(db: Database, report: Report) -> None:
    """Projects whose customer cannot be reached at all (channel archived, bot removed): no silence."""
    with db.read() as session:
        unreachable = unreachable_channels(session)
    for item in unreachable:
        report.problems.append(
            f"customer of project {item.project_key} ({item.team_id}) cannot be reached in {item.channel}: "
            f"{item.error} (unarchive the channel, invite the bot back, or link the project to another channel)"
        )


def check_slack(
    settings: Settings, db: Database | None, report: Report, client: Callable[[str], WebClient]
) -> None:
    if settings.slack_bot_token:
        try:
            response = client(settings.slack_bot_token).auth_test()
        except SlackApiError as exc:
            report.problems.append(f"Slack refused SLACK_BOT_TOKEN: {exc.response.get('error')}")
            return
        except Exception as exc:
            report.problems.append(f"Slack could not be reached at {settings.api_url}: {exc}")
            return
        granted = {s.strip() for s in str(response.headers.get("x-oauth-scopes", "")).split(",") if s.strip()}
        missing = [scope for scope in ids.BOT_SCOPES if scope not in granted] if granted else []
        report.ok.append(f"Slack token works (workspace {response.get('team')}, bot {response.get('user')})")
        if missing:
            report.problems.append(
                "the bot token lacks these scopes: "
                + ", ".join(f"{s} ({ids.BOT_SCOPES[s]})" for s in missing)
                + " — add them in your Slack app and reinstall it"
            )
    elif settings.slack_client_id and db is not None:
        try:
            with db.read() as session:
                count = session.scalar(select(func.count()).select_from(installations)) or 0
        except Exception:
            count = 0
        if count:
            report.ok.append(f"OAuth mode: {count} installation(s) in the database")
        else:
            report.problems.append("OAuth mode: no workspace has installed the app yet (open /slack/install)")


def check_manifest(path: Path | None, report: Report) -> None:
    """The app's manifest (``--manifest``, else ``manifest.yml`` in the working directory, when there):
    every setting the code needs that it lacks."""
    if path is None:
        path = next((p for p in (Path("manifest.yml"), Path("manifest.yaml")) if p.exists()), None)
        if path is None:
            return
    try:
        manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        report.problems.append(f"the app manifest {path} cannot be read: {str(exc).splitlines()[0]}")
        return
    if not isinstance(manifest, dict):
        report.problems.append(f"the app manifest {path} is not a manifest")
        return
    missing = missing_settings(manifest)
    for line in missing:
        report.problems.append(
            f"the app manifest {path} lacks {line} — update the app (`aftercare manifest`) and reinstall it"
        )
    if not missing:
        report.ok.append(f"app manifest {path} has every setting the bot needs")


def run_check(
    settings: Settings, client: Callable[[str], WebClient], *, manifest: Path | None = None
) -> Report:
    report = Report()
    check_settings(settings, report)
    check_manifest(manifest, report)
    db = check_database(settings, report)
    check_slack(settings, db, report, client)
    if (
        db is not None
        and settings.slack_bot_token
        and not any("SLACK_BOT_TOKEN" in p for p in report.problems)
    ):
        check_report_channels(settings, db, report, client(settings.slack_bot_token))
    if db is not None:
        db.dispose()
    return report


def check_report_channels(settings: Settings, db: Database, report: Report, client: WebClient) -> None:
    """Internal reports go only to internal channels the bot is in: say which projects point elsewhere.

    Whether a channel counts as shared is the audience policy's answer (:mod:`bot.delivery.audience`).
    """
    shared = SharedChannels(Services(settings=settings, db=db), lambda _team: client)
    with db.read() as session:
        audiences = [
            (p.key, audience)
            for p in queries.projects(session)
            if p.report_channel_id and (audience := project_audience(session, project_id=p.id))
        ]
    for key, audience in audiences:
        channel = str(audience.report_channel_id)
        try:
            info = client.conversations_info(channel=channel)
        except SlackApiError as exc:
            report.problems.append(
                f"project {key}: its report channel {channel} cannot be used ({exc.response.get('error')})"
            )
            continue
        except Exception:
            continue
        channel_info = info.get("channel") or {}
        if not channel_info.get("is_member"):
            report.problems.append(
                f"project {key}: the bot is not in its report channel {channel}; "
                "invite it there (type /invite @Aftercare) or choose another in /project settings"
            )
        if channel_info.get("is_ext_shared") or channel_info.get("is_pending_ext_shared"):
            report.problems.append(
                f"project {key}: its report channel {channel} is shared with another organisation; "
                "internal reports go to the owners by DM until another channel is set in /project settings"
            )
        elif shared.is_shared(audience.team_id, channel, contacts=audience.customer_contacts):
            report.problems.append(
                f"project {key}: its report channel {channel} has guests or customer contacts among its members "
                "(or Slack could not list them); internal reports go to the owners by DM until it is internal"
            )
