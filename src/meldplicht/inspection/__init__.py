"""Flags and the inspection queue: every anomaly becomes one flag that inspectors work."""
