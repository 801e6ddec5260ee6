"""Languages, dates and option parsing."""
