"""The features' steps: the one call a listener or job makes, opening the transactions and talking to Slack between them."""
