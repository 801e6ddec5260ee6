"""Configuration from the environment (and a ``.env`` file in the working directory).

Values are read as plain strings and checked by :meth:`Settings.problems`, so a
command can report every problem at once (``check``) or stop on them with one
clear line each, never a traceback.
"""

from __future__ import annotations

import re
from enum import StrEnum
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.domain.working_hours import parse_working_hours

SUPPORTED_LOCALES = ("en", "zh-CN")
SUPPORTED_DATABASES = ("sqlite", "postgresql")
# What example files and docs put where a secret goes (`.env.example`: xoxb-your-bot-token).
_PLACEHOLDER = re.compile(r"your|\.\.\.|…|<|>|changeme|example|placeholder", re.IGNORECASE)
DEFAULT_API_URL = "https://slack.com/api/"


class Need(StrEnum):
    """What a command needs from Slack."""

    HTTP = "http"  # serve: signing secret + bot token or OAuth pair
    SOCKET = "socket"  # socket: app token + bot token
    API = "api"  # scheduler / jobs: a bot token or OAuth installations
    NOTHING = "nothing"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: str = DEFAULT_API_URL
    database_url: str = "sqlite:///aftercare.db"
    aftercare_timezone: str = "UTC"
    aftercare_locale: str = "en"
    port: str = "3000"
    # Extensions (not in the public contract): worker threads for listeners and the HTTP server.
    aftercare_threads: str = "16"
    # Scheduled sends in parallel across channels (each channel still paced at about one message a second).
    aftercare_send_workers: str = "8"
    aftercare_log_format: str = "text"
    # When survey invitations and reminders may arrive, in each recipient's own time zone.
    aftercare_survey_hours: str = "Mon-Fri 09:00-17:00"

    @property
    def oauth_mode(self) -> bool:
        return bool(self.slack_client_id or self.slack_client_secret) and not self.slack_bot_token

    @property
    def api_url(self) -> str:
        url = self.slack_api_url.strip()
        return url if url.endswith("/") else url + "/"

    @property
    def port_number(self) -> int:
        return int(self.port)

    @property
    def threads(self) -> int:
        return int(self.aftercare_threads)

    @property
    def send_workers(self) -> int:
        return int(self.aftercare_send_workers)

    def problems(self, need: Need = Need.NOTHING) -> list[str]:
        """Every problem with the settings a command with ``need`` relies on, in plain words."""
        found = [*self._format_problems()]
        if need is Need.HTTP:
            if not self.slack_signing_secret:
                found.append(
                    "SLACK_SIGNING_SECRET is not set (find it under Basic Information in your Slack app)"
                )
            found += self._token_problems()
        elif need is Need.SOCKET:
            if not self.slack_app_token:
                found.append(
                    "SLACK_APP_TOKEN is not set (an app-level token, xapp-…, with connections:write)"
                )
            if not self.slack_bot_token:
                found.append("SLACK_BOT_TOKEN is not set (Socket Mode needs the bot token, xoxb-…)")
        elif need is Need.API:
            found += self._token_problems()
        return found

    def problems_for_api(self) -> list[str]:
        return self._token_problems()

    def _token_problems(self) -> list[str]:
        if self.slack_bot_token:
            return []
        if self.slack_client_id and self.slack_client_secret:
            return []
        if self.slack_client_id:
            return ["SLACK_CLIENT_SECRET is not set (OAuth install mode needs it with SLACK_CLIENT_ID)"]
        if self.slack_client_secret:
            return ["SLACK_CLIENT_ID is not set (OAuth install mode needs it with SLACK_CLIENT_SECRET)"]
        return ["SLACK_BOT_TOKEN is not set (or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth mode)"]

    def _format_problems(self) -> list[str]:
        found: list[str] = []
        if self.slack_bot_token and not self.slack_bot_token.startswith("xoxb-"):
            found.append("SLACK_BOT_TOKEN does not look like a bot token (it should start with xoxb-)")
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            found.append("SLACK_APP_TOKEN does not look like an app-level token (it should start with xapp-)")
        for name, value in (
            ("SLACK_BOT_TOKEN", self.slack_bot_token),
            ("SLACK_APP_TOKEN", self.slack_app_token),
            ("SLACK_SIGNING_SECRET", self.slack_signing_secret),
            ("SLACK_CLIENT_SECRET", self.slack_client_secret),
        ):
            if value and _PLACEHOLDER.search(value):
                found.append(
                    f"{name} is still a placeholder: paste the real value from your Slack app's settings"
                )
        if self.slack_signing_secret is not None and not re.fullmatch(
            r"[0-9a-fA-F]{16,}", self.slack_signing_secret
        ):
            found.append("SLACK_SIGNING_SECRET is malformed (it is a long hexadecimal string)")
        parsed = urlparse(self.slack_api_url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            found.append(f"SLACK_API_URL is not an http(s) URL: {self.slack_api_url!r}")
        try:
            backend = make_url(self.database_url).get_backend_name()
        except ArgumentError:
            found.append(f"DATABASE_URL is not a database URL: {self.database_url!r}")
        else:
            if backend not in SUPPORTED_DATABASES:
                found.append(
                    f"DATABASE_URL names a {backend} database; Aftercare supports SQLite "
                    "(sqlite:///aftercare.db) and PostgreSQL (postgresql+psycopg://user@host/dbname)"
                )
        try:
            ZoneInfo(self.aftercare_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            found.append(f"AFTERCARE_TIMEZONE is not an IANA time zone: {self.aftercare_timezone!r}")
        if self.aftercare_locale not in SUPPORTED_LOCALES:
            found.append(f"AFTERCARE_LOCALE must be en or zh-CN, not {self.aftercare_locale!r}")
        if not self.port.isdigit() or not 0 < int(self.port) < 65536:
            found.append(f"PORT must be a number between 1 and 65535, not {self.port!r}")
        try:
            parse_working_hours(self.aftercare_survey_hours)
        except (ValueError, TypeError):
            found.append(
                f"AFTERCARE_SURVEY_HOURS must look like Mon-Fri 09:00-17:00, not {self.aftercare_survey_hours!r}"
            )
        if self.aftercare_log_format not in ("text", "json"):
            found.append(f"AFTERCARE_LOG_FORMAT must be text or json, not {self.aftercare_log_format!r}")
        if not self.aftercare_threads.isdigit() or not 1 <= int(self.aftercare_threads) <= 256:
            found.append(
                f"AFTERCARE_THREADS must be a number between 1 and 256, not {self.aftercare_threads!r}"
            )
        if not self.aftercare_send_workers.isdigit() or not 1 <= int(self.aftercare_send_workers) <= 64:
            found.append(
                "AFTERCARE_SEND_WORKERS must be a number between 1 and 64, "
                f"not {self.aftercare_send_workers!r}"
            )
        return found


def load_settings() -> Settings:
    return Settings()
