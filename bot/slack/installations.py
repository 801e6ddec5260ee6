"""Where OAuth installations are kept (slack_sdk's SQLAlchemy store on our engine), for the app and its listeners."""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

from bot.slack.services import Services
from storage.ledger import mark_uninstalled
from storage.slack_tables import BOTS_TABLE, INSTALLATIONS_TABLE


def installation_store(services: Services) -> SQLAlchemyInstallationStore:
    return SQLAlchemyInstallationStore(
        client_id=services.settings.slack_client_id or "",
        engine=services.db.engine,
        bots_table_name=BOTS_TABLE,
        installations_table_name=INSTALLATIONS_TABLE,
    )


def stop_sending(
    services: Services, *, team_id: str, enterprise_id: str | None, installation_team_id: str | None
) -> None:
    """The app lost its access to the workspace (``team_id``, the tenant): pending messages fail, and in OAuth
    mode its installation (``enterprise_id`` / ``installation_team_id`` as Bolt names it) is deleted too, as
    Bolt's own revocation listeners would."""
    with services.db.write() as session:
        mark_uninstalled(session, team_id=team_id, now=services.now())
    if services.settings.oauth_mode:
        installation_store(services).delete_all(enterprise_id=enterprise_id, team_id=installation_team_id)
