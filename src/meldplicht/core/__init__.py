"""Cross-cutting infrastructure: settings, database, errors, security, clock, logging."""
