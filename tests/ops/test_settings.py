"""Settings: every problem named, in one line each."""

from bot.ops.settings import Need, Settings


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_defaults_need_nothing_from_slack_for_offline_commands() -> None:
    assert settings().problems(Need.NOTHING) == []


def test_every_malformed_value_is_named() -> None:
    found = settings(
        aftercare_survey_hours="whenever", aftercare_log_format="xml", aftercare_locale="fr", port="0"
    ).problems()
    assert any("AFTERCARE_SURVEY_HOURS" in p and "whenever" in p for p in found)
    assert any("AFTERCARE_LOG_FORMAT" in p for p in found)
    assert any("AFTERCARE_LOCALE" in p for p in found)
    assert any("PORT" in p for p in found)


def test_survey_hours_accept_other_working_weeks() -> None:
    assert settings(aftercare_survey_hours="Sun-Thu 08:30-16:30").problems() == []


def test_the_example_files_placeholders_are_named_and_not_shown() -> None:
    found = settings(
        slack_bot_token="xoxb-your-bot-token", slack_signing_secret="your-signing-secret"
    ).problems()
    assert (
        "SLACK_BOT_TOKEN is still a placeholder: paste the real value from your Slack app's settings" in found
    )
    assert any(p.startswith("SLACK_SIGNING_SECRET") for p in found)
    assert not any("your-bot-token" in p or "your-signing-secret" in p for p in found)
    real = settings(slack_bot_token="xoxb-1234-5678-AbCdEf", slack_signing_secret="0123456789abcdef" * 2)
    assert real.problems() == []


def test_a_database_other_than_sqlite_or_postgresql_is_refused_with_what_is_supported() -> None:
    [problem] = settings(database_url="mysql://root@db/aftercare").problems(Need.NOTHING)
    assert problem == (
        "DATABASE_URL names a mysql database; Aftercare supports SQLite (sqlite:///aftercare.db) "
        "and PostgreSQL (postgresql+psycopg://user@host/dbname)"
    )
    assert settings(database_url="postgresql://u@h/d").problems(Need.NOTHING) == []


def test_send_workers_are_a_small_number() -> None:
    assert settings().send_workers == 8
    assert settings(aftercare_send_workers="1").problems() == []
    for wrong in ("0", "65", "many"):
        found = settings(aftercare_send_workers=wrong).problems()
        assert any("AFTERCARE_SEND_WORKERS" in p and repr(wrong) in p for p in found)
