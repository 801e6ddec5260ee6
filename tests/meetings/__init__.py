"""Meetings and their action items."""
