"""Delivery of scheduled messages: the ledger's runner, the audience policy, slots, the scheduler."""
