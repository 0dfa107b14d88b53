"""Publications on SQLite: the records and their listing."""

from __future__ import annotations

import sqlite3

from sendout.promotions.records import Campaign, Publication
from sendout.records import Customer, Page
from sendout.storage import promotion_rows as prow
from sendout.storage import rows
from sendout.storage.base import PublicationFilter
from sendout.storage.sqlite.campaigns import find_campaign, require_campaign
from sendout.storage.sqlite.queries import Conn

__all__ = ["PUBLICATION_ORDERS", "list_publications", "publication_of_row"]

_PUBLICATION_ORDERS = {
    "id": "p.id ASC",
    "-id": "p.id DESC",
    "created_at": "p.created_at ASC, p.id ASC",
    "-created_at": "p.created_at DESC, p.id DESC",
    "customer_id": "p.customer_id ASC",
    "-customer_id": "p.customer_id DESC",
    "channel": "p.channel ASC",
    "-channel": "p.channel DESC",
    "tracking_id": "cu.source_id ASC",
    "-tracking_id": "cu.source_id DESC",
}


PUBLICATION_ORDERS = tuple(_PUBLICATION_ORDERS)


def publication_of_row(conn: Conn, row: sqlite3.Row) -> Publication:
    vouchers = tuple(
        prow.voucher(v)
        for v in conn.execute(
            "SELECT v.* FROM publication_vouchers pv JOIN vouchers v ON v.id = pv.voucher_id"
            " WHERE pv.publication_id = ? ORDER BY pv.position",
            (row["id"],),
        )
    )
    return Publication(
        id=row["id"],
        project_id=row["project_id"],
        campaign_id=row["campaign_id"],
        customer_id=row["customer_id"],
        vouchers=vouchers,
        source_id=row["source_id"],
        channel=row["channel"],
        metadata=rows.from_json(row["metadata"]) or {},
        created_at=row["created_at"],
    )


def list_publications(
    conn: Conn, project_id: str, page: Page, f: PublicationFilter
) -> tuple[list[tuple[Publication, Customer, Campaign]], int]:
    where, params = ["p.project_id = ?"], [project_id]
    if f.campaign is not None:
        campaign = find_campaign(conn, project_id, f.campaign)
        where.append("p.campaign_id = ?")
        params.append("" if campaign is None else campaign.id)
    if f.customer is not None:
        where.append("(cu.id = ? OR cu.source_id = ?)")
        params += [f.customer, f.customer]
    if f.voucher is not None:
        where.append(
            "p.id IN (SELECT pv.publication_id FROM publication_vouchers pv JOIN vouchers v"
            " ON v.id = pv.voucher_id WHERE v.project_id = ? AND v.code = ?)"
        )
        params += [project_id, f.voucher]
    if f.result == "FAILURE":
        where.append("0")
    if f.voucher_type is not None:
        where.append(
            "c.campaign_type = ?" if f.voucher_type == "loyalty" else "c.campaign_type != ?"
        )
        params.append("LOYALTY_PROGRAM")
    if f.is_referral_code is not None:
        where.append("c.campaign_type = ?" if f.is_referral_code else "c.campaign_type != ?")
        params.append("REFERRAL_PROGRAM")
    if f.source_id is not None:
        where.append("p.source_id = ?")
        params.append(f.source_id)
    clause = " AND ".join(where)
    base = (
        "FROM publications p JOIN campaigns c ON c.id = p.campaign_id"
        f" JOIN customers cu ON cu.id = p.customer_id WHERE {clause}"
    )
    total = conn.execute(f"SELECT COUNT(*) {base}", params).fetchone()[0]
    found = conn.execute(
        f"SELECT p.* {base} ORDER BY {_PUBLICATION_ORDERS[f.order]} LIMIT ? OFFSET ?",
        (*params, page.limit, page.offset),
    ).fetchall()
    out = []
    for r in found:
        publication = publication_of_row(conn, r)
        customer = rows.customer(
            conn.execute("SELECT * FROM customers WHERE id = ?", (r["customer_id"],)).fetchone()
        )
        out.append((publication, customer, require_campaign(conn, project_id, r["campaign_id"])))
    return out, int(total)
