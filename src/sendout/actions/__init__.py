"""What a distribution does for one event, one module per purpose (③ of the pipeline)."""
