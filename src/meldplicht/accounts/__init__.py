"""Accounts and credentials: API keys for employers and partners, users for the pages."""
