"""The delivery ledger, the audience policy, the scheduler, Slack's limits on sending."""
