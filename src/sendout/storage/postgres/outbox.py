"""The outbox on PostgreSQL: claims (``FOR UPDATE SKIP LOCKED`` with leases), recording
attempts, resends and replays, listing deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sendout.errors import NotFound
from sendout.outbox.ordering import OrderKey, finished_keys
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
from sendout.storage.postgres import ordering
from sendout.storage.postgres.connection import PostgresConnection
from sendout.storage.postgres.distributions import require_distribution
from sendout.storage.postgres.queries import Record, Where, execute, paged
from sendout.storage.sealing import Sealer

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn


__all__ = ["PostgresOutbox"]

_NEXT_DUE = rows.NEXT_DUE.format(until="$1")


class PostgresOutbox(PostgresConnection):
    async def claim_due(
        self,
        now_ms: int,
        limit: int,
        lease_ms: int,
        *,
        retries: bool,
        exclude: Sequence[str] = (),
    ) -> list[ClaimedDelivery]:
        async with self._tx() as conn:
            # asyncpg prepares the claim; after five runs PostgreSQL may keep a generic plan,
            # which sorts every due delivery (1.7 s per claim at a backlog of a million)
            # instead of walking the due index (under 10 ms; bench/claim_cost.py).
            await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            found = await conn.fetch(
                _CLAIM_RETRIES if retries else _CLAIM_FIRST,
                now_ms + lease_ms,
                now_ms,
                limit,
                list(exclude),
            )
        claimed = sorted(found, key=lambda r: (r["next_attempt_at"], r["seq"]))
        return [_claimed(r, self._sealer, now_ms) for r in claimed]

    async def release(self, delivery_ids: Sequence[str]) -> None:
        if delivery_ids:
            await self._one(
                execute,
                "UPDATE deliveries SET lease_until = 0 WHERE id = ANY($1::text[])"
                " AND status = 'pending'",
                list(delivery_ids),
            )

    async def record_outcomes(
        self, outcomes: Sequence[Outcome], *, pause_after: int, now: str
    ) -> None:
        if not outcomes:
            return
        # Failures are counted statement by statement; a finished ordered delivery lets the next
        # of its key go, under the key's lock.
        if any(not o.delivered for o in outcomes) or finished_keys(outcomes):
            await self._write(_record_outcomes, outcomes, pause_after, now)
        else:  # one statement, atomic by itself: no BEGIN and COMMIT round trips
            await self._one(_record_outcomes, outcomes, pause_after, now)

    async def resend_delivery(self, project_id: str, delivery_id: str, now_ms: int) -> Delivery:
        delivery = await self._write(_resend, project_id, delivery_id, now_ms)
        self._poke_workers()
        return delivery

    async def replay_deliveries(
        self, project_id: str, distribution_id: str, since: str, now_ms: int
    ) -> int:
        count = await self._write(_replay, project_id, distribution_id, since, now_ms)
        if count:
            self._poke_workers()
        return count

    async def next_due_ms(self, until_ms: int) -> int | None:
        row = await self._fetchrow(_NEXT_DUE, until_ms)
        return None if row is None or row["due"] is None else int(row["due"])

    async def list_deliveries(
        self, project_id: str, page: Page, where: DeliveryFilter
    ) -> tuple[list[Delivery], int]:
        sql = _delivery_where(project_id, where)

        async def run(conn: Conn) -> tuple[list[Delivery], int]:
            found, total = await paged(conn, "deliveries", sql, "created_at DESC, id DESC", page)
            return await _with_attempts(conn, found), total

        return await self._read(run)

    async def deliveries_created(
        self, project_id: str, distribution_id: str, since: str, limit: int
    ) -> list[DeliveryCopy]:
        async def run(conn: Conn) -> list[DeliveryCopy]:
            found = await conn.fetch(
                rows.DELIVERIES_CREATED.format("$1", "$2", "$3", "$4"),
                project_id,
                distribution_id,
                since,
                limit,
            )
            return [rows.delivery_copy(r) for r in found]

        return await self._one(run)

    async def get_delivery(self, project_id: str, delivery_id: str) -> Delivery:
        async def run(conn: Conn) -> Delivery:
            found = await conn.fetch(
                "SELECT * FROM deliveries WHERE project_id = $1 AND id = $2",
                project_id,
                delivery_id,
            )
            if not found:
                raise NotFound("delivery", delivery_id)
            return (await _with_attempts(conn, found))[0]

        return await self._read(run)

    async def get_delivery_request(self, project_id: str, delivery_id: str) -> DeliveryRequest:
        found = await self._fetchrow(
            "SELECT url, headers, body FROM deliveries WHERE project_id = $1 AND id = $2",
            project_id,
            delivery_id,
        )
        if found is None:
            raise NotFound("delivery", delivery_id)
        return rows.delivery_request(found)

    async def deliveries_per_bucket(
        self, project_id: str, since: str, width: int
    ) -> list[tuple[str, str, int]]:
        async def run(conn: Conn) -> list[tuple[str, str, int]]:
            found = await conn.fetch(
                "SELECT substr(created_at, 1, $1) AS bucket, status, COUNT(*) AS n"
                " FROM deliveries WHERE project_id = $2 AND created_at >= $3"
                " GROUP BY bucket, status ORDER BY bucket, status",
                width,
                project_id,
                since,
            )
            return [(str(r["bucket"]), str(r["status"]), int(r["n"])) for r in found]

        return await self._one(run)

    async def oldest_pending(self, project_id: str) -> Delivery | None:
        async def run(conn: Conn) -> Delivery | None:
            found = await conn.fetch(
                "SELECT * FROM deliveries WHERE project_id = $1 AND status = 'pending'"
                " ORDER BY next_attempt_at, id LIMIT 1",
                project_id,
            )
            return (await _with_attempts(conn, found))[0] if found else None

        return await self._read(run)

    async def queue_counts(
        self, project_id: str, now_ms: int, failed_since_ms: int
    ) -> list[QueueCounts]:
        async def run(conn: Conn) -> list[QueueCounts]:
            found = await conn.fetch(
                "SELECT distribution_id, SUM(pending) AS pending, SUM(due) AS due, "
                "MIN(next_at) AS oldest_due_ms, SUM(failed) AS failed FROM ( "
                "SELECT distribution_id, 1 AS pending, CASE WHEN next_attempt_at <= $2 THEN 1 ELSE 0 END AS due, "
                f"CASE WHEN {rows.NOT_HELD} THEN next_attempt_at END AS next_at, 0 AS failed FROM deliveries "
                "WHERE status = 'pending' AND project_id = $1 "
                "UNION ALL "
                "SELECT distribution_id, 0, 0, NULL, 1 FROM deliveries "
                "WHERE status = 'failed' AND next_attempt_at >= $3 AND project_id = $1 "
                ") AS queue GROUP BY distribution_id ORDER BY distribution_id",
                project_id,
                now_ms,
                failed_since_ms,
            )
            return [rows.queue_counts(r) for r in found]

        return await self._read(run)


def _delivery_where(project_id: str, where: DeliveryFilter) -> Where:
    sql = Where().add("project_id = ?", project_id)
    for column, value in (
        ("distribution_id", where.distribution_id),
        ("event_id", where.event_id),
        ("status", where.status),
    ):
        if value is not None:
            sql.add(f"{column} = ?", value)
    if where.since is not None:
        sql.add("created_at >= ?", where.since)
    if where.until is not None:
        sql.add("created_at < ?", where.until)
    return sql


# Lock due rows no other worker holds, lease them, and hand back what a sender needs. A row that
# another transaction leased after our snapshot is re-checked under its lock and dropped.
_CLAIM = """
WITH due AS (
    SELECT m.id FROM deliveries m JOIN distributions d ON d.id = m.distribution_id
    WHERE m.status = 'pending' AND m.next_attempt_at <= $2 AND m.lease_until <= $2
      AND d.status = 'ACTIVE' AND {not_paused} AND {lane}
      AND m.destination <> ALL($4::text[])
    ORDER BY m.next_attempt_at, m.seq
    LIMIT $3
    FOR UPDATE OF m SKIP LOCKED
)
UPDATE deliveries m SET lease_until = $1
FROM due, projects p, distributions d
WHERE m.id = due.id AND p.id = m.project_id AND d.id = m.distribution_id
RETURNING m.id, m.project_id, m.distribution_id, m.channel_index, m.url, m.headers, m.body,
          m.attempts, m.next_attempt_at, m.seq, m.order_key, p.webhook_secret, p.previous_webhook_secret,
          p.previous_secret_expires_ms, p.voucherify_secret, d.channels
"""


_CLAIM_FIRST = _CLAIM.format(not_paused=rows.CHANNEL_NOT_PAUSED, lane="m.attempts = 0")


_CLAIM_RETRIES = _CLAIM.format(not_paused=rows.CHANNEL_NOT_PAUSED, lane="m.attempts > 0")


def _claimed(r: Record, sealer: Sealer, now_ms: int) -> ClaimedDelivery:
    channels = rows.from_json(r["channels"])
    index = r["channel_index"]
    channel = rows.channel(channels[index]) if index < len(channels) else None
    return ClaimedDelivery(
        id=r["id"],
        project_id=r["project_id"],
        distribution_id=r["distribution_id"],
        channel_index=index,
        url=r["url"],
        headers=rows.from_json(r["headers"]),
        body=bytes(r["body"]),
        attempts=r["attempts"],
        keys=rows.signing_keys(r, sealer, now_ms),
        retry_schedule=None if channel is None else channel.retry_schedule,
        order_key=r["order_key"],
    )


async def _resend(conn: Conn, project_id: str, delivery_id: str, now_ms: int) -> Delivery:
    key = await conn.fetchrow(
        "SELECT distribution_id, channel_index, order_key FROM deliveries"
        " WHERE project_id = $1 AND id = $2",
        project_id,
        delivery_id,
    )
    keys: list[OrderKey] = []
    if key is not None and key["order_key"] is not None:  # locked before the row, like outcomes
        keys = [(key["distribution_id"], key["channel_index"], key["order_key"])]
        await ordering.lock(conn, keys)
    found = await conn.fetchrow(
        "SELECT * FROM deliveries WHERE project_id = $1 AND id = $2 FOR UPDATE",
        project_id,
        delivery_id,
    )
    if found is None:
        raise NotFound("delivery", delivery_id)
    if found["status"] == "canceled":
        raise refusals.delivery_canceled(delivery_id)
    distribution = await require_distribution(conn, project_id, found["distribution_id"])
    if distribution.paused:
        raise refusals.distribution_paused(distribution.id)
    await conn.execute(
        "UPDATE deliveries SET status = 'pending', lease_until = 0,"
        f" next_attempt_at = {rows.SENT_AGAIN_AT.format('$1')} WHERE id = $2",
        now_ms,
        delivery_id,
    )
    await ordering.advance(conn, keys, now_ms)
    row = await conn.fetchrow("SELECT * FROM deliveries WHERE id = $1", delivery_id)
    assert row is not None, "locked above"
    return (await _with_attempts(conn, [row]))[0]


_REPLAYABLE = (
    " WHERE distribution_id = $1 AND created_at >= $2 AND (status = 'failed'"
    " OR (status = 'pending' AND attempts > 0 AND lease_until <= $3))"
)


async def _replay(
    conn: Conn, project_id: str, distribution_id: str, since: str, now_ms: int
) -> int:
    await require_distribution(conn, project_id, distribution_id)
    # The ordered keys to replay are locked before their rows (as outcomes do); a delivery that
    # failed meanwhile brings its key in late, locked then.
    keys = await conn.fetch(
        "SELECT DISTINCT distribution_id, channel_index, order_key FROM deliveries"
        + _REPLAYABLE
        + " AND order_key IS NOT NULL",
        distribution_id,
        since,
        now_ms,
    )
    locked = sorted((r[0], r[1], r[2]) for r in keys)
    await ordering.lock(conn, locked)
    sent = await conn.fetch(
        "UPDATE deliveries SET status = 'pending', lease_until = 0,"
        f" next_attempt_at = {rows.SENT_AGAIN_AT.format('$3')}"
        + _REPLAYABLE
        + " RETURNING distribution_id, channel_index, order_key",
        distribution_id,
        since,
        now_ms,
    )
    late = sorted({(r[0], r[1], r[2]) for r in sent if r[2] is not None} - set(locked))
    await ordering.lock(conn, late)
    await ordering.advance(conn, sorted([*locked, *late]), now_ms)
    return len(sent)


# Every attempt of a batch in one statement: the deliveries' new states, the attempt rows, and the
# channels that delivered set healthy (their rows locked in key order, so workers cannot
# deadlock).
_RECORD_OUTCOMES = """
WITH updated AS (
    UPDATE deliveries m SET status = u.status, attempts = m.attempts + 1, lease_until = 0,
           next_attempt_at = u.next_at, delivered_at = COALESCE(u.delivered_at, m.delivered_at),
           last_status_code = u.code
    FROM unnest($1::text[], $2::bigint[], $3::text[], $4::int[], $5::text[])
         AS u (status, next_at, delivered_at, code, id)
    WHERE m.id = u.id
    RETURNING m.id
), recorded AS (  -- only for deliveries still there: a purge may have taken one meanwhile
    INSERT INTO attempts (delivery_id, attempted_at, status_code, latency_ms, error,
                          response_excerpt)
    SELECT a.* FROM unnest($6::text[], $7::text[], $8::int[], $9::float8[], $10::text[],
                           $11::text[])
         AS a (delivery_id, attempted_at, status_code, latency_ms, error, response_excerpt)
    WHERE a.delivery_id IN (SELECT id FROM updated)
), healthy AS (
    SELECT distribution_id, channel_index FROM channel_states
    WHERE (distribution_id, channel_index) IN (SELECT * FROM unnest($12::text[], $13::int[]))
      AND consecutive_failures > 0
    ORDER BY distribution_id, channel_index
    FOR UPDATE
)
UPDATE channel_states c SET consecutive_failures = 0 FROM healthy h
WHERE c.distribution_id = h.distribution_id AND c.channel_index = h.channel_index
"""


async def _record_outcomes(
    conn: Conn, outcomes: Sequence[Outcome], pause_after: int, now: str
) -> None:
    updates, attempts = rows.outcome_params(outcomes)
    reset, failures = health_changes(outcomes)
    finished = finished_keys(outcomes)
    await ordering.lock(conn, finished)  # first: every writer takes key locks before row locks
    if failures:
        # Resets and failure counts lock channel rows in two passes: take every touched row
        # first, in key order, so two workers recording at once cannot deadlock.
        touched = sorted({(o.distribution_id, o.channel_index) for o in outcomes})
        await conn.execute(
            "SELECT 1 FROM channel_states WHERE (distribution_id, channel_index) IN"
            " (SELECT * FROM unnest($1::text[], $2::int[]))"
            " ORDER BY distribution_id, channel_index FOR UPDATE",
            [d for d, _ in touched],
            [i for _, i in touched],
        )
    await conn.execute(
        _RECORD_OUTCOMES,
        *(list(column) for column in zip(*updates, strict=True)),
        *(list(column) for column in zip(*attempts, strict=True)),
        [d for d, _ in reset],
        [i for _, i in reset],
    )
    for o in failures:  # channel by channel in key order, each in the order attempted
        await _count_failure(conn, o, pause_after, now)
    await ordering.advance(conn, finished, max(o.attempted_at_ms for o in outcomes))


async def _count_failure(conn: Conn, outcome: Outcome, pause_after: int, now: str) -> None:
    key = (outcome.distribution_id, outcome.channel_index)
    row = await conn.fetchrow(
        "INSERT INTO channel_states (distribution_id, channel_index, consecutive_failures)"
        " VALUES ($1, $2, 1) ON CONFLICT (distribution_id, channel_index)"
        " DO UPDATE SET consecutive_failures = channel_states.consecutive_failures + 1"
        " RETURNING consecutive_failures, paused_at",
        *key,
    )
    assert row is not None
    if row["paused_at"] is not None:
        return
    reason = pause_reason(row["consecutive_failures"], outcome.status_code, pause_after)
    if reason is not None:
        await conn.execute(
            "UPDATE channel_states SET paused_at = $1, pause_reason = $2"
            " WHERE distribution_id = $3 AND channel_index = $4",
            now,
            reason,
            *key,
        )


async def _with_attempts(conn: Conn, found: Sequence[Record]) -> list[Delivery]:
    if not found:
        return []
    delivery_ids = [r["id"] for r in found]
    by_delivery: dict[str, list[Any]] = {m: [] for m in delivery_ids}
    for r in await conn.fetch(
        "SELECT * FROM attempts WHERE delivery_id = ANY($1::text[]) ORDER BY id", delivery_ids
    ):
        by_delivery[r["delivery_id"]].append(rows.attempt(r))
    return [rows.delivery(r, by_delivery[r["id"]]) for r in found]
