"""Satisfaction surveys: team DMs, customer cards, an issue's rating."""
