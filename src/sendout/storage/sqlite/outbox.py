"""The outbox on SQLite: claiming due deliveries, recording attempts, resends and replays,
listing deliveries."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sendout.delivery.signer import SigningKeys
from sendout.errors import NotFound
from sendout.outbox.ordering import finished_keys
from sendout.outbox.pause import health_changes, pause_reason
from sendout.records import (
    ClaimedDelivery,
    Delivery,
    DeliveryCopy,
    DeliveryRequest,
    Outcome,
    Page,
    QueueCounts,
)
from sendout.storage import refusals, rows
from sendout.storage.base import DeliveryFilter
from sendout.storage.sealing import Sealer
from sendout.storage.sqlite.connection import SqliteConnection
from sendout.storage.sqlite.distributions import require_distribution
from sendout.storage.sqlite.ordering import advance
from sendout.storage.sqlite.queries import Conn, where_clause

__all__ = ["SqliteOutbox"]

_NEXT_DUE = rows.NEXT_DUE.format(until="?")


class SqliteOutbox(SqliteConnection):
    async def claim_due(
        self,
        now_ms: int,
        limit: int,
        lease_ms: int,
        *,
        retries: bool,
        exclude: Sequence[str] = (),
    ) -> list[ClaimedDelivery]:
        return await self._write(
            _claim_due, now_ms, limit, lease_ms, retries, tuple(exclude), self._sealer
        )

    async def release(self, delivery_ids: Sequence[str]) -> None:
        def run(conn: Conn) -> None:
            conn.executemany(
                "UPDATE deliveries SET lease_until = 0 WHERE id = ? AND status = 'pending'",
                [(m,) for m in delivery_ids],
            )

        if delivery_ids:
            await self._write(run)

    async def record_outcomes(
        self, outcomes: Sequence[Outcome], *, pause_after: int, now: str
    ) -> None:
        if outcomes:
            await self._write(_record_outcomes, outcomes, pause_after, now)

    async def resend_delivery(self, project_id: str, delivery_id: str, now_ms: int) -> Delivery:
        def run(conn: Conn) -> Delivery:
            found = conn.execute(
                "SELECT * FROM deliveries WHERE project_id = ? AND id = ?",
                (project_id, delivery_id),
            ).fetchone()
            if found is None:
                raise NotFound("delivery", delivery_id)
            _refuse_unsendable(conn, found)
            conn.execute(
                "UPDATE deliveries SET status = 'pending', lease_until = 0,"
                f" next_attempt_at = {rows.SENT_AGAIN_AT.format('?')} WHERE id = ?",
                (now_ms, delivery_id),
            )
            if found["order_key"] is not None:
                key = (found["distribution_id"], found["channel_index"], found["order_key"])
                advance(conn, [key], now_ms)
            return _with_attempts(
                conn,
                conn.execute("SELECT * FROM deliveries WHERE id = ?", (delivery_id,)).fetchall(),
            )[0]

        return await self._write(run)

    async def replay_deliveries(
        self, project_id: str, distribution_id: str, since: str, now_ms: int
    ) -> int:
        def run(conn: Conn) -> int:
            require_distribution(conn, project_id, distribution_id)
            sent = conn.execute(
                "UPDATE deliveries SET status = 'pending', lease_until = 0,"
                f" next_attempt_at = {rows.SENT_AGAIN_AT.format('?')}"
                " WHERE distribution_id = ? AND created_at >= ?"
                " AND (status = 'failed'"
                " OR (status = 'pending' AND attempts > 0 AND lease_until <= ?))"
                " RETURNING distribution_id, channel_index, order_key",
                (now_ms, distribution_id, since, now_ms),
            ).fetchall()
            keys = {(r[0], r[1], r[2]) for r in sent if r[2] is not None}
            advance(conn, sorted(keys), now_ms)
            return len(sent)

        return await self._write(run)

    async def next_due_ms(self, until_ms: int) -> int | None:
        def run(conn: Conn) -> int | None:
            row = conn.execute(_NEXT_DUE, (until_ms,) * 3).fetchone()
            return None if row[0] is None else int(row[0])

        return await self._read(run)

    async def list_deliveries(
        self, project_id: str, page: Page, where: DeliveryFilter
    ) -> tuple[list[Delivery], int]:
        clause, params = _delivery_where(project_id, where)

        def run(conn: Conn) -> tuple[list[Delivery], int]:
            total = conn.execute(
                f"SELECT COUNT(*) FROM deliveries WHERE {clause}", params
            ).fetchone()
            found = conn.execute(
                f"SELECT * FROM deliveries WHERE {clause} ORDER BY created_at DESC, id DESC"
                " LIMIT ? OFFSET ?",
                (*params, page.limit, page.offset),
            ).fetchall()
            return _with_attempts(conn, found), int(total[0])

        return await self._read(run)

    async def deliveries_created(
        self, project_id: str, distribution_id: str, since: str, limit: int
    ) -> list[DeliveryCopy]:
        def run(conn: Conn) -> list[DeliveryCopy]:
            found = conn.execute(
                rows.DELIVERIES_CREATED.format("?", "?", "?", "?"),
                (project_id, distribution_id, since, limit),
            )
            return [rows.delivery_copy(r) for r in found]

        return await self._read(run)

    async def get_delivery(self, project_id: str, delivery_id: str) -> Delivery:
        def run(conn: Conn) -> Delivery:
            found = conn.execute(
                "SELECT * FROM deliveries WHERE project_id = ? AND id = ?",
                (project_id, delivery_id),
            ).fetchall()
            if not found:
                raise NotFound("delivery", delivery_id)
            return _with_attempts(conn, found)[0]

        return await self._read(run)

    async def get_delivery_request(self, project_id: str, delivery_id: str) -> DeliveryRequest:
        def run(conn: Conn) -> DeliveryRequest:
            found = conn.execute(
                "SELECT url, headers, body FROM deliveries WHERE project_id = ? AND id = ?",
                (project_id, delivery_id),
            ).fetchone()
            if found is None:
                raise NotFound("delivery", delivery_id)
            return rows.delivery_request(found)

        return await self._read(run)

    async def deliveries_per_bucket(
        self, project_id: str, since: str, width: int
    ) -> list[tuple[str, str, int]]:
        def run(conn: Conn) -> list[tuple[str, str, int]]:
            found = conn.execute(
                "SELECT substr(created_at, 1, ?) AS bucket, status, COUNT(*) FROM deliveries"
                " WHERE project_id = ? AND created_at >= ?"
                " GROUP BY bucket, status ORDER BY bucket, status",
                (width, project_id, since),
            )
            return [(str(r[0]), str(r[1]), int(r[2])) for r in found]

        return await self._read(run)

    async def oldest_pending(self, project_id: str) -> Delivery | None:
        def run(conn: Conn) -> Delivery | None:
            found = conn.execute(
                "SELECT * FROM deliveries WHERE project_id = ? AND status = 'pending'"
                " ORDER BY next_attempt_at, id LIMIT 1",
                (project_id,),
            ).fetchall()
            return _with_attempts(conn, found)[0] if found else None

        return await self._read(run)

    async def queue_counts(
        self, project_id: str, now_ms: int, failed_since_ms: int
    ) -> list[QueueCounts]:
        def run(conn: Conn) -> list[QueueCounts]:
            found = conn.execute(
                "SELECT distribution_id, SUM(pending) AS pending, SUM(due) AS due, "
                "MIN(next_at) AS oldest_due_ms, SUM(failed) AS failed FROM ( "
                "SELECT distribution_id, 1 AS pending, CASE WHEN next_attempt_at <= ? THEN 1 ELSE 0 END AS due, "
                f"CASE WHEN {rows.NOT_HELD} THEN next_attempt_at END AS next_at, 0 AS failed FROM deliveries "
                "WHERE status = 'pending' AND project_id = ? "
                "UNION ALL "
                "SELECT distribution_id, 0, 0, NULL, 1 FROM deliveries "
                "WHERE status = 'failed' AND next_attempt_at >= ? AND project_id = ? "
                ") AS queue GROUP BY distribution_id ORDER BY distribution_id",
                (now_ms, project_id, failed_since_ms, project_id),
            )
            return [rows.queue_counts(r) for r in found]

        return await self._read(run)


def _delivery_where(project_id: str, where: DeliveryFilter) -> tuple[str, tuple[Any, ...]]:
    clause, params = where_clause(
        {
            "project_id": project_id,
            "distribution_id": where.distribution_id,
            "event_id": where.event_id,
            "status": where.status,
        }
    )
    if where.since is not None:
        clause, params = f"{clause} AND created_at >= ?", (*params, where.since)
    if where.until is not None:
        clause, params = f"{clause} AND created_at < ?", (*params, where.until)
    return clause, params


def _refuse_unsendable(conn: Conn, delivery: sqlite3.Row) -> None:
    if delivery["status"] == "canceled":
        raise refusals.delivery_canceled(delivery["id"])
    distribution = require_distribution(conn, delivery["project_id"], delivery["distribution_id"])
    if distribution.paused:
        raise refusals.distribution_paused(distribution.id)


def _claim_due(
    conn: Conn,
    now_ms: int,
    limit: int,
    lease_ms: int,
    retries: bool,
    exclude: tuple[str, ...],
    sealer: Sealer,
) -> list[ClaimedDelivery]:
    lane = "m.attempts > 0" if retries else "m.attempts = 0"
    skip = ""
    if exclude:
        skip = " AND m.destination NOT IN (" + ", ".join("?" for _ in exclude) + ")"
    claimed = conn.execute(
        "UPDATE deliveries SET lease_until = ? WHERE id IN ("
        " SELECT m.id FROM deliveries m JOIN distributions d ON d.id = m.distribution_id"
        " WHERE m.status = 'pending' AND m.next_attempt_at <= ? AND m.lease_until <= ?"
        f" AND d.status = 'ACTIVE' AND {rows.CHANNEL_NOT_PAUSED} AND {lane}{skip}"
        " ORDER BY m.next_attempt_at, m.rowid LIMIT ?)"
        " RETURNING id, project_id, distribution_id, channel_index, url, headers, body, attempts,"
        " order_key",
        (now_ms + lease_ms, now_ms, now_ms, *exclude, limit),
    ).fetchall()
    if not claimed:
        return []
    keys = _signing_keys(conn, {r["project_id"] for r in claimed}, sealer, now_ms)
    schedules = _retry_schedules(conn, {r["distribution_id"] for r in claimed})
    return [
        ClaimedDelivery(
            id=r["id"],
            project_id=r["project_id"],
            distribution_id=r["distribution_id"],
            channel_index=r["channel_index"],
            url=r["url"],
            headers=rows.from_json(r["headers"]),
            body=bytes(r["body"]),
            attempts=r["attempts"],
            keys=keys[r["project_id"]],
            retry_schedule=schedules.get((r["distribution_id"], r["channel_index"])),
            order_key=r["order_key"],
        )
        for r in claimed
    ]


def _signing_keys(
    conn: Conn, project_ids: set[str], sealer: Sealer, now_ms: int
) -> dict[str, SigningKeys]:
    marks = ", ".join("?" for _ in project_ids)
    found = conn.execute(
        "SELECT id AS project_id, webhook_secret, previous_webhook_secret,"
        f" previous_secret_expires_ms, voucherify_secret FROM projects WHERE id IN ({marks})",
        sorted(project_ids),
    )
    return {r["project_id"]: rows.signing_keys(r, sealer, now_ms) for r in found}


def _retry_schedules(
    conn: Conn, distribution_ids: set[str]
) -> dict[tuple[str, int], tuple[float, ...]]:
    marks = ", ".join("?" for _ in distribution_ids)
    schedules: dict[tuple[str, int], tuple[float, ...]] = {}
    for r in conn.execute(
        f"SELECT id, channels FROM distributions WHERE id IN ({marks})", sorted(distribution_ids)
    ):
        for index, raw in enumerate(rows.from_json(r["channels"])):
            channel = rows.channel(raw)
            if channel.retry_schedule is not None:
                schedules[(r["id"], index)] = channel.retry_schedule
    return schedules


def _record_outcomes(conn: Conn, outcomes: Sequence[Outcome], pause_after: int, now: str) -> None:
    updates, attempts = rows.outcome_params(outcomes)
    conn.executemany(
        "UPDATE deliveries SET status = ?, attempts = attempts + 1, lease_until = 0,"
        " next_attempt_at = ?, delivered_at = COALESCE(?, delivered_at), last_status_code = ?"
        " WHERE id = ?",
        updates,
    )
    # Only for deliveries still there: a purge may have taken one whose outcome came late.
    conn.executemany(
        "INSERT INTO attempts (delivery_id, attempted_at, status_code, latency_ms, error,"
        " response_excerpt) SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS"
        " (SELECT 1 FROM deliveries WHERE id = ?)",
        [(*a, a[0]) for a in attempts],
    )
    reset, failures = health_changes(outcomes)
    conn.executemany(
        "UPDATE channel_states SET consecutive_failures = 0"
        " WHERE distribution_id = ? AND channel_index = ? AND consecutive_failures > 0",
        reset,
    )
    for o in failures:
        _count_failure(conn, o, pause_after, now)
    finished = finished_keys(outcomes)
    if finished:
        advance(conn, finished, max(o.attempted_at_ms for o in outcomes))


def _count_failure(conn: Conn, outcome: Outcome, pause_after: int, now: str) -> None:
    key = (outcome.distribution_id, outcome.channel_index)
    row = conn.execute(
        "INSERT INTO channel_states (distribution_id, channel_index, consecutive_failures)"
        " VALUES (?, ?, 1) ON CONFLICT (distribution_id, channel_index)"
        " DO UPDATE SET consecutive_failures = consecutive_failures + 1"
        " RETURNING consecutive_failures, paused_at",
        key,
    ).fetchone()
    if row["paused_at"] is not None:
        return
    reason = pause_reason(row["consecutive_failures"], outcome.status_code, pause_after)
    if reason is not None:
        conn.execute(
            "UPDATE channel_states SET paused_at = ?, pause_reason = ?"
            " WHERE distribution_id = ? AND channel_index = ?",
            (now, reason, *key),
        )


def _with_attempts(conn: Conn, found: list[sqlite3.Row]) -> list[Delivery]:
    if not found:
        return []
    delivery_ids = [r["id"] for r in found]
    marks = ", ".join("?" for _ in delivery_ids)
    by_delivery: dict[str, list[Any]] = {m: [] for m in delivery_ids}
    for r in conn.execute(
        f"SELECT * FROM attempts WHERE delivery_id IN ({marks}) ORDER BY id", delivery_ids
    ):
        by_delivery[r["delivery_id"]].append(rows.attempt(r))
    return [rows.delivery(r, by_delivery[r["id"]]) for r in found]
