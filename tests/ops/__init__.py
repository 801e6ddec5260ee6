"""The command line, export and import, settings, logs, migrations."""
