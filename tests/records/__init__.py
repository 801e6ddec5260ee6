"""Requirements, issues, tasks and risks: commands, cards, moves."""
