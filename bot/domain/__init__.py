"""The domain: plain functions over a session and plain values. Nothing here talks to Slack."""
