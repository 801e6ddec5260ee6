"""The Slack edge: request path, Block Kit rules, manifest, server, errors, hostile input."""
