"""Block Kit and text builders: what Aftercare posts, built from plain views."""
