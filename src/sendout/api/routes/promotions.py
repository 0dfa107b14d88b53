"""The promotion routers (issue 3), installed together."""

from __future__ import annotations

from fastapi import FastAPI

from sendout.api.routes import (
    async_actions,
    campaigns,
    loyalties,
    promotion_records,
    promotion_tiers,
    publications,
    vouchers,
)

__all__ = ["install_promotion_routes"]


def install_promotion_routes(app: FastAPI) -> None:
    for module in (
        campaigns,
        vouchers,
        publications,
        promotion_tiers,
        loyalties,
        promotion_records,
        async_actions,
    ):
        app.include_router(module.router)
