"""Aftercare: a Slack bot for after-sales project management."""

__version__ = "0.1.0"
