"""Which distributions an event triggers."""
