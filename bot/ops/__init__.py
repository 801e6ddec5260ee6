"""Operations: the command line, `aftercare check`, export and import, settings, logging."""
