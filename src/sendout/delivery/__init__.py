"""Getting webhooks to their receivers: signing, sending, the worker loop."""
