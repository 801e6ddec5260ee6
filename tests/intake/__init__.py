"""Customer intake and service levels."""
