"""Distribution rules: what a distribution must satisfy to be saved (:mod:`.rules`) and which
distributions an event triggers (:mod:`.match`). Pure."""
