"""The demo's own package: the strict stand-in Slack (``simulator*``, ``workspace``), the scripted weeks that
play on it (``script``, ``story_*``, ``driver``, ``play``) and the clock and executor the demo and the tests
share."""
