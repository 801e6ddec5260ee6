"""Where OAuth installations are kept (slack_sdk's SQLAlchemy store on our engine), for the app and its listeners."""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

from bot.services import Services
from storage.slack_tables import BOTS_TABLE, INSTALLATIONS_TABLE


def installation_store(services: Services) -> SQLAlchemyInstallationStore:
    return SQLAlchemyInstallationStore(
        client_id=services.settings.slack_client_id or "",
        engine=services.db.engine,
        bots_table_name=BOTS_TABLE,
        installations_table_name=INSTALLATIONS_TABLE,
    )
