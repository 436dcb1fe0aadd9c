"""Notifications, their change notices and terminations, kept as an immutable history."""
