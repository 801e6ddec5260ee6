"""The ``aftercare`` command line."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from bot import __version__
from bot.ops.settings import Need, Settings, load_settings


class Stop(Exception):
    """Stop the command with one clear line (no traceback)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def _fail(message: str, code: int = 2) -> NoReturn:
    raise Stop(message, code)


def _settings(need: Need) -> Settings:
    try:
        settings = load_settings()
    except Exception as exc:  # a .env file that cannot be read, say
        _fail(f"cannot read the configuration: {str(exc).splitlines()[0]}")
    problems = settings.problems(need)
    if problems:
        _fail("\n".join(f"aftercare: {problem}" for problem in problems).removeprefix("aftercare: "))
    return settings


def _database(settings: Settings, *, migrate: bool = True, must_exist: bool = False, read_only: bool = False):  # type: ignore[no-untyped-def]
    """Open (and migrate) the store; ``must_exist`` for commands that only read: they never create one;
    ``read_only`` (a dry run) migrates nothing either: it refuses a schema behind the migrations."""
    from sqlalchemy.engine import make_url

    from storage.db import Database
    from storage.schema_version import is_current

    shown = settings.database_url.split("@")[-1]
    url = make_url(settings.database_url)
    on_disk = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if must_exist and on_disk and not Path(str(url.database)).exists():
        _fail(f"there is no database at {url.database} (nothing to read; is DATABASE_URL right?)", code=1)
    try:
        db = Database(settings.database_url)
        db.ping()
        current = not read_only or is_current(db)
        if migrate and not read_only:
            from storage import migrate as migrations  # Alembic: about a third of a second to import

            migrations.upgrade(db)
    except Exception as exc:
        _fail(f"cannot open the database ({shown}): {_reason(exc)}")
    if not current:
        _fail(f"the database ({shown}) is behind the migrations; run `aftercare db upgrade` first", code=1)
    return db


def _reason(exc: Exception) -> str:
    """The driver's message without SQLAlchemy's ``(psycopg.OperationalError)`` prefix or a traceback."""
    reason = (
        str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        if str(exc).strip()
        else type(exc).__name__
    )
    return re.sub(r"^\([\w.]+\)\s*", "", reason)


def _services(need: Need, *, must_exist: bool = False, read_only: bool = False):  # type: ignore[no-untyped-def]
    from bot.slack.services import Services

    settings = _settings(need)
    return Services(settings=settings, db=_database(settings, must_exist=must_exist, read_only=read_only))


def _app(services, **kwargs):  # type: ignore[no-untyped-def]
    from slack_bolt.error import BoltError

    from bot.slack.app import create_app

    try:
        return create_app(services, **kwargs)
    except BoltError as exc:
        _fail(f"Slack refused the configuration: {exc}")
    except OSError as exc:  # urllib's URLError, a timeout: Slack is unreachable
        _fail(f"cannot reach Slack at {services.settings.api_url}: {exc}")


def cmd_serve(args: argparse.Namespace, services=None) -> int:  # type: ignore[no-untyped-def]
    from bot.slack.server import AftercareWSGI, serve_http

    if args.port is not None and not 0 < args.port < 65536:
        _fail(f"--port must be a number between 1 and 65535, not {args.port}")
    from concurrent.futures import ThreadPoolExecutor

    workers = getattr(args, "workers", 1)  # `aftercare run` is one process
    if workers != 1 and services is None:
        return _serve_workers(args, workers)
    services = services or _services(Need.HTTP)
    listeners = ThreadPoolExecutor(max_workers=services.settings.threads, thread_name_prefix="listener")
    app = _app(services, executor=listeners)
    port = args.port or services.settings.port_number
    try:
        serve_http(
            AftercareWSGI(app, services.db), host=args.host, port=port, threads=services.settings.threads
        )
    except OSError as exc:  # the port is taken, or the host is not ours
        _fail(f"cannot listen on {args.host}:{port}: {exc.strerror or exc}")
    finally:
        # Work that listeners do after ack() (cards, DMs) finishes before the process ends.
        listeners.shutdown(wait=True)
        if services.after_ack is not None:
            services.after_ack.shutdown()
    return 0


def _serve_workers(args: argparse.Namespace, workers: int) -> int:
    """``serve --workers N``: N pre-forked processes sharing one PostgreSQL (SQLite is single-process)."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.slack.server import AftercareWSGI, serve_workers
    from bot.slack.services import Services
    from storage.db import Database

    if not 1 <= workers <= 64:
        _fail(f"--workers must be a number between 1 and 64, not {workers}")
    settings = _settings(Need.HTTP)
    if Database(settings.database_url).is_sqlite:
        _fail(
            f"--workers {workers} needs PostgreSQL: SQLite serves from one process "
            "(drop --workers, or set DATABASE_URL to a PostgreSQL database)"
        )
    db = _database(settings)  # checked and migrated once, before the fork
    db.dispose()

    def build():  # type: ignore[no-untyped-def]
        services = Services(settings=settings, db=Database(settings.database_url))
        listeners = ThreadPoolExecutor(max_workers=settings.threads, thread_name_prefix="listener")
        app = _app(services, executor=listeners)

        def stop() -> None:
            listeners.shutdown(wait=True)
            if services.after_ack is not None:
                services.after_ack.shutdown()
            services.db.dispose()

        return AftercareWSGI(app, services.db), stop

    port = args.port or settings.port_number
    serve_workers(build, host=args.host, port=port, workers=workers, threads=settings.threads)
    return 0


def _runner(services):  # type: ignore[no-untyped-def]
    from bot.delivery.runner import Runner, job_client_factory

    return Runner(services, job_client_factory(services), workers=services.settings.send_workers)


def cmd_scheduler(args: argparse.Namespace) -> int:
    from bot.delivery.scheduler import build_scheduler, stop_on_signals

    services = _services(Need.API)
    scheduler = build_scheduler(services, _runner(services), background=False)
    stop_on_signals(scheduler)
    logging.getLogger("aftercare.scheduler").info("scheduler started; ticking every few minutes")
    scheduler.start()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """``serve`` and ``scheduler`` in one process, for small installs."""
    from bot.delivery.scheduler import build_scheduler

    if args.port is not None and not 0 < args.port < 65536:
        _fail(f"--port must be a number between 1 and 65535, not {args.port}")
    services = _services(Need.HTTP)
    scheduler = build_scheduler(services, _runner(services), background=True)
    scheduler.start()
    try:
        return cmd_serve(args, services=services)
    finally:
        scheduler.shutdown(wait=True)


def _parse_now(value: str | None):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    if value is None:
        return datetime.now(UTC)
    try:
        now = datetime.fromisoformat(value)
    except ValueError:
        _fail(f"--now must be an ISO 8601 time like 2026-12-07T09:00:00+08:00, not {value!r}")
    if now.tzinfo is None:
        _fail(f"--now needs a time zone offset, like 2026-12-07T09:00:00+08:00 (got {value!r})")
    return now


def cmd_jobs_run(args: argparse.Namespace) -> int:
    from bot.delivery.base import JobContext
    from bot.jobs import JOBS

    now = _parse_now(args.now)
    services = _services(
        Need.NOTHING if args.dry_run else Need.API, must_exist=args.dry_run, read_only=args.dry_run
    )
    job = JOBS[args.name]
    planner = job.load()
    if planner is None:
        _fail(f"the {args.name} job is not available in this version yet")
    if args.project:
        from storage import queries

        with services.db.read() as session:
            if not queries.projects(session, team_id=args.team, key=args.project):
                _fail(f"no project {args.project}" + (f" in workspace {args.team}" if args.team else ""))
    ctx = JobContext(
        now=now,
        team_id=args.team,
        project_key=args.project,
        default_locale=services.default_locale,
        default_timezone=services.default_timezone,
        survey_hours=services.settings.aftercare_survey_hours,
    )
    runner = _runner(services)
    if args.dry_run:
        report = runner.dry_run([planner], ctx)
        for line in report.lines:
            print(line)
            print()
        print(
            f"{report.planned} message(s) would be sent; {report.already_sent} already sent. Nothing was posted or written."
        )
        return 0
    from sqlalchemy.exc import SQLAlchemyError

    prepare = job.load_prepare()
    try:  # prepare: e.g. people a pulse survey asks, looked up before they are invited
        if prepare is not None:
            prepare(services, runner.client_for, ctx)
        report = runner.run([planner], ctx, kinds=job.kinds)
    except SQLAlchemyError as exc:  # the database went away mid-run: the ledger keeps what was sent
        _fail(f"the database failed during the {args.name} job ({_reason(exc)}); "
              "run it again once it is back: nothing already sent is sent twice", code=1)  # fmt: skip
    print(f"{args.name} at {now.isoformat()}: {report.sent} sent, {report.already_sent} already sent before, "
          f"{report.pending} pending, {report.failed} failed")  # fmt: skip
    for count, what in ((report.pending, "could not be delivered now and stay pending"),
                        (report.failed, "failed for good; see `aftercare check`")):  # fmt: skip
        if count:
            print(f"aftercare: {count} message(s) {what}", file=sys.stderr)
    return 0 if report.ok else 1


def cmd_socket(args: argparse.Namespace) -> int:
    from bot.slack.app import web_client
    from bot.slack.server import serve_socket

    services = _services(Need.SOCKET)
    app = _app(services)
    try:
        serve_socket(app, app_token=services.settings.slack_app_token or "", client=web_client(services))
    finally:  # what listeners left after their ack (cards, DMs) finishes before the process ends
        if services.after_ack is not None:
            services.after_ack.shutdown()
    return 0


def cmd_manifest(args: argparse.Namespace) -> int:
    from bot.slack.manifest import render_manifest

    if args.url and not args.url.startswith(("https://", "http://")):
        _fail(f"--url must be an http(s) URL, not {args.url!r}")
    sys.stdout.write(render_manifest(url=args.url))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from bot.ops.check import run_check
    from bot.slack.app import web_client
    from bot.slack.services import Services

    try:
        settings = load_settings()
    except Exception as exc:
        _fail(f"cannot read the configuration: {exc}")
    report = run_check(
        settings,
        lambda token: web_client(Services(settings=settings, db=None), token),  # type: ignore[arg-type]
        manifest=args.manifest,
    )
    for line in report.lines():
        print(line)
    if report.problems:
        print(f"{len(report.problems)} problem(s) found.")
        return 1
    print("All good.")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from storage import migrate

    settings = _settings(Need.NOTHING)
    db = _database(settings, migrate=False)
    before = migrate.current_revision(db)
    migrate.upgrade(db)
    after = migrate.current_revision(db)
    print(
        f"database schema: {before or 'empty'} -> {after}"
        if before != after
        else f"database schema up to date ({after})"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bot.ops.export import export_data, write_csv, write_json

    if args.format == "csv" and not args.out:
        _fail("--format csv needs --out DIR (one file per kind is written there)")
    settings = _settings(Need.NOTHING)
    db = _database(settings, must_exist=True)
    with db.read() as session:
        if args.project and not export_data(session, team_id=args.team, project_key=args.project)["projects"]:
            _fail(f"no project {args.project}" + (f" in workspace {args.team}" if args.team else ""))
        data = export_data(session, team_id=args.team, project_key=args.project)
    if args.format == "csv":
        for path in write_csv(data, Path(args.out)):
            print(path)
    elif args.out:
        Path(args.out).write_text(write_json(data) + "\n", encoding="utf-8")
    else:
        sys.stdout.write(write_json(data) + "\n")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Load an export back: all of it in one transaction, or nothing (one line saying why)."""
    import json

    from sqlalchemy.exc import SQLAlchemyError

    from bot.ops.importer import InvalidImport, import_data

    path = Path(args.path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        _fail(f"cannot import {path}: it is not UTF-8 text (expected the JSON of `aftercare export`)")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        _fail(f"cannot import {path}: not valid JSON ({exc})")
    settings = _settings(Need.NOTHING)
    db = _database(settings)
    try:
        with db.write() as session:
            report = import_data(session, data, overwrite=args.overwrite)
    except InvalidImport as exc:
        _fail(f"cannot import {path}: {exc}")
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        _fail(f"cannot import {path}: the database refused it ({reason}); nothing was imported")
    print(report.summary())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The whole product offline: a local stand-in for Slack, a temporary database, three scripted weeks of a project."""
    from bot.demo.play import run_demo

    if not args.verbose:
        # The transcript is the demo's output; the bot's routine log lines would only interleave with it.
        logging.getLogger().setLevel(logging.WARNING)
    target = Path(args.html)
    if target.is_dir() or not target.resolve().parent.is_dir():
        _fail(f"cannot write the HTML transcript to {args.html}: not a file in an existing directory")
    return run_demo(locale=args.locale, html_path=target)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aftercare", description="Aftercare: after-sales project management in Slack."
    )
    parser.add_argument("--version", action="version", version=f"aftercare {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="HTTP mode: POST /slack/events and GET /healthz")
    serve.add_argument(
        "--host", default="0.0.0.0", help="address to listen on (default: %(default)s, every interface)"
    )
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 3000")
    serve.add_argument(
        "--workers", type=int, default=1,
        help="processes (gunicorn, pre-fork; PostgreSQL only; default: %(default)s)",
    )  # fmt: skip
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("socket", help="run over Socket Mode (SLACK_APP_TOKEN)").set_defaults(func=cmd_socket)

    sub.add_parser("scheduler", help="run the scheduled jobs until stopped").set_defaults(func=cmd_scheduler)

    run = sub.add_parser("run", help="serve and scheduler in one process")
    run.add_argument(
        "--host", default="0.0.0.0", help="address to listen on (default: %(default)s, every interface)"
    )
    run.add_argument("--port", type=int, default=None, help="default: $PORT or 3000")
    run.set_defaults(func=cmd_run)

    jobs = sub.add_parser("jobs", help="run one job once")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    job_run = jobs_sub.add_parser("run", help="run one job once and exit")
    job_run.add_argument("name", choices=("digest", "nudges", "risk-review", "surveys", "sla"))
    job_run.add_argument("--now", help="the job's clock, e.g. 2026-12-07T09:00:00+08:00 (default: now)")
    job_run.add_argument("--project", help="only this project key")
    job_run.add_argument("--team", help="only this workspace (team id)")
    job_run.add_argument(
        "--dry-run", action="store_true", help="print what would be posted; post and write nothing"
    )
    job_run.set_defaults(func=cmd_jobs_run)

    manifest = sub.add_parser("manifest", help="print the Slack app manifest")
    mode = manifest.add_mutually_exclusive_group()
    mode.add_argument("--socket", action="store_true", help="Socket Mode (the default)")
    mode.add_argument("--url", help="HTTP mode at this public base URL, e.g. https://aftercare.example.com")
    manifest.set_defaults(func=cmd_manifest)

    check = sub.add_parser(
        "check", help="verify configuration, Slack token and scopes, app manifest, database"
    )
    check.add_argument(
        "--manifest", type=Path, help="the app's manifest to verify (default: manifest.yml here, when there)"
    )
    check.set_defaults(func=cmd_check)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply schema migrations").set_defaults(func=cmd_db)

    export = sub.add_parser("export", help="write the records as JSON (or CSV files)")
    export.add_argument("--project", help="only this project key")
    export.add_argument("--team", help="only this workspace (team id)")
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument("--out", help="file (json) or directory (csv)")
    export.set_defaults(func=cmd_export)

    importer = sub.add_parser("import", help="load an export back (backup/restore)")
    importer.add_argument("path", metavar="PATH", help="a JSON file written by `aftercare export`")
    importer.add_argument(
        "--overwrite",
        action="store_true",
        help="replace projects that already exist (same workspace and key)",
    )
    importer.set_defaults(func=cmd_import)

    demo = sub.add_parser(
        "demo", help="play three scripted weeks of a project offline, with no Slack account needed"
    )
    demo.add_argument("--locale", choices=("en", "zh-CN"), default="en", help="the language of the story")
    demo.add_argument(
        "--html",
        default="aftercare-demo.html",
        help="where to write the HTML transcript (default: %(default)s)",
    )
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from bot.ops.logs import configure

    fmt = os.environ.get("AFTERCARE_LOG_FORMAT", "text")
    configure(verbose=args.verbose, fmt=fmt if fmt in ("text", "json") else "text")
    try:
        return int(args.func(args))
    except Stop as stop:
        print(f"aftercare: {stop}", file=sys.stderr)
        return stop.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
