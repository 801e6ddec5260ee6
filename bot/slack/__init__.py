"""The Slack edge: payload parsing, Block Kit builders and the one place that sends to Slack."""
