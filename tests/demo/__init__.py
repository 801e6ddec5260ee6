"""The demo and the stand-in Slack it runs on."""
