"""Publications on PostgreSQL: the records and their listing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sendout.promotions.records import Campaign, Publication, Voucher
from sendout.records import Customer, Page
from sendout.storage import promotion_rows as prow
from sendout.storage import rows
from sendout.storage.base import PublicationFilter
from sendout.storage.postgres.campaigns import campaigns_by_id, find_campaign
from sendout.storage.postgres.queries import Record, Where

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn


__all__ = ["list_publications", "publication_of_row", "publications_of_rows"]

# PostgreSQL sorts NULL last ascending; SQLite first. source_id is the only nullable sort key.
_PUBLICATION_ORDERS = {
    "id": "p.id ASC",
    "-id": "p.id DESC",
    "created_at": "p.created_at ASC, p.id ASC",
    "-created_at": "p.created_at DESC, p.id DESC",
    "customer_id": "p.customer_id ASC",
    "-customer_id": "p.customer_id DESC",
    "channel": "p.channel ASC",
    "-channel": "p.channel DESC",
    "tracking_id": "cu.source_id ASC NULLS FIRST",
    "-tracking_id": "cu.source_id DESC NULLS LAST",
}


async def publications_of_rows(conn: Conn, found: Sequence[Record]) -> list[Publication]:
    """Publications with their codes (in the order they were handed out), in one query."""
    codes: dict[str, list[Voucher]] = {r["id"]: [] for r in found}
    if codes:
        for v in await conn.fetch(
            "SELECT pv.publication_id AS publication_id_, v.* FROM publication_vouchers pv"
            " JOIN vouchers v ON v.id = pv.voucher_id WHERE pv.publication_id = ANY($1::text[])"
            " ORDER BY pv.publication_id, pv.position",
            list(codes),
        ):
            codes[v["publication_id_"]].append(prow.voucher(v))
    return [
        Publication(
            id=r["id"],
            project_id=r["project_id"],
            campaign_id=r["campaign_id"],
            customer_id=r["customer_id"],
            vouchers=tuple(codes[r["id"]]),
            source_id=r["source_id"],
            channel=r["channel"],
            metadata=rows.from_json(r["metadata"]) or {},
            created_at=r["created_at"],
        )
        for r in found
    ]


async def publication_of_row(conn: Conn, row: Record | None) -> Publication | None:
    return None if row is None else (await publications_of_rows(conn, [row]))[0]


def _publication_filter(project_id: str, f: PublicationFilter, campaign_id: str | None) -> Where:
    where = Where().add("p.project_id = ?", project_id)
    if f.campaign is not None:
        where.add("p.campaign_id = ?", campaign_id or "")
    if f.customer is not None:
        where.add("(cu.id = ? OR cu.source_id = ?)", f.customer, f.customer)
    if f.voucher is not None:
        where.add(
            "p.id IN (SELECT pv.publication_id FROM publication_vouchers pv JOIN vouchers v"
            " ON v.id = pv.voucher_id WHERE v.project_id = ? AND v.code = ?)",
            project_id,
            f.voucher,
        )
    if f.result == "FAILURE":
        where.add("false")
    if f.voucher_type is not None:
        where.add(
            "c.campaign_type = ?" if f.voucher_type == "loyalty" else "c.campaign_type != ?",
            "LOYALTY_PROGRAM",
        )
    if f.is_referral_code is not None:
        where.add(
            "c.campaign_type = ?" if f.is_referral_code else "c.campaign_type != ?",
            "REFERRAL_PROGRAM",
        )
    if f.source_id is not None:
        where.add("p.source_id = ?", f.source_id)
    return where


async def list_publications(
    conn: Conn, project_id: str, page: Page, f: PublicationFilter
) -> tuple[list[tuple[Publication, Customer, Campaign]], int]:
    campaign = None if f.campaign is None else await find_campaign(conn, project_id, f.campaign)
    where = _publication_filter(project_id, f, None if campaign is None else campaign.id)
    base = (
        "FROM publications p JOIN campaigns c ON c.id = p.campaign_id"
        f" JOIN customers cu ON cu.id = p.customer_id WHERE {where.sql}"
    )
    total = await conn.fetchval(f"SELECT COUNT(*) {base}", *where.params)
    found = await conn.fetch(
        f"SELECT p.* {base} ORDER BY {_PUBLICATION_ORDERS[f.order]}"
        f" LIMIT {where.next(1)} OFFSET {where.next(2)}",
        *where.params,
        page.limit,
        page.offset,
    )
    publications = await publications_of_rows(conn, found)
    customers = {
        r["id"]: rows.customer(r)
        for r in await conn.fetch(
            "SELECT * FROM customers WHERE id = ANY($1::text[])",
            list({p.customer_id for p in publications}),
        )
    }
    campaigns = await campaigns_by_id(conn, {p.campaign_id for p in publications})
    out = [(p, customers[p.customer_id], campaigns[p.campaign_id]) for p in publications]
    return out, int(total)
