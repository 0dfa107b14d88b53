"""Storage: one interface of domain verbs, one module per backend."""

from sendout.storage.base import Storage, TrackCommand, Tracking

__all__ = ["Storage", "TrackCommand", "Tracking"]
