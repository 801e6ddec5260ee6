"""App Home."""
