"""Settings: every problem named, in one line each."""

from bot.settings import Need, Settings


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
