"""Deliveries and when to try them again."""
