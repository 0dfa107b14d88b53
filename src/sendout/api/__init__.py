"""The HTTP API: Voucherify's routes and shapes, plus sendout's own extensions."""
