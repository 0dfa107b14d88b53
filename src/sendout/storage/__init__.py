"""Storage: the interface (:mod:`.base`, :mod:`.tx`) and its SQLite and PostgreSQL backends."""

from sendout.storage.base import Storage

__all__ = ["Storage"]
