"""The SQL store of Aftercare: engine, models, migrations and queries. Knows nothing of Slack."""
