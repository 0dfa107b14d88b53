"""Placeholder until the promotion verbs land on PostgreSQL (branch pg-promotions)."""

from __future__ import annotations

from typing import Any

__all__ = ["PgPromotionTx"]


class PgPromotionTx:
    def __init__(self, conn: Any, project_id: str, now: str) -> None:
        self.now = now
