"""Flags: one anomaly of one subject under one rule, and the one way they are synced."""
