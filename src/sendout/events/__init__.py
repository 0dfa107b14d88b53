"""Custom events: their typed metadata and the rules it must follow."""
