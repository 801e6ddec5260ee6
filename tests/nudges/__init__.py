"""Nudges about overdue work and their buttons."""
