"""Outbox messages and when to try them again."""
