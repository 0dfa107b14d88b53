"""What an event name triggers on SQLite, kept decoded in memory between transactions.

Every tracked event reads its schema and the active distributions its name triggers. They change
seldom, so :class:`TriggerCache` keeps what it read, per project and event name, for as long as
``catalog_version`` holds the value it saw: SQL triggers (migration 0017) give that row a new
random value on every insert, update or delete of ``event_schemas`` or ``distributions``, by any
connection or process. One primary-key read per event replaces two queries and the decoding of
their rows. The cache is used on the writer thread only, inside its transactions, so what it
reads is what the transaction would have read.
"""

from __future__ import annotations

from sendout.storage import rows
from sendout.storage.sqlite.queries import Conn
from sendout.storage.tx import Trigger

__all__ = ["TriggerCache", "read_trigger"]

_MOST = 1024  # event names kept; past that, the cache starts over


class TriggerCache:
    """The result of :func:`read_trigger` per (project, event name), for one catalog version."""

    def __init__(self) -> None:
        self._version: int | None = None
        self._found: dict[tuple[str, str], Trigger | None] = {}

    def trigger(self, conn: Conn, project_id: str, event_name: str) -> Trigger | None:
        (version,) = conn.execute("SELECT version FROM catalog_version").fetchone()
        if version != self._version:
            self._found.clear()
            self._version = version
        key = (project_id, event_name)
        if key in self._found:
            return self._found[key]
        if len(self._found) >= _MOST:
            self._found.clear()
        found = self._found[key] = read_trigger(conn, project_id, event_name)
        return found


def read_trigger(conn: Conn, project_id: str, event_name: str) -> Trigger | None:
    """The event's schema and the active distributions it triggers, in creation order; ``None``
    for an event name without a schema."""
    schema = conn.execute(
        "SELECT * FROM event_schemas WHERE project_id = ? AND name = ?",
        (project_id, event_name),
    ).fetchone()
    if schema is None:
        return None
    candidates = conn.execute(
        "SELECT * FROM distributions WHERE project_id = ? AND trigger_event = ?"
        " AND status = 'ACTIVE' ORDER BY created_at, id",
        (project_id, event_name),
    )
    return rows.event_schema(schema), [rows.distribution(r) for r in candidates]
