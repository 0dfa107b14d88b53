"""The customer.custom_event payload: ``data`` and the envelope around it."""
