"""Projects: the /project command, settings, status, closing and its report."""
