"""sendout: customer events in, signed Voucherify-compatible webhooks out."""

__version__ = "0.1.0"

__all__ = ["__version__"]
