"""The dashboard: server-rendered pages (Jinja2 + htmx) at ``/dashboard``, in the API's process.

It reads through the same storage verbs and acts through the same functions as the API routes;
every asset it serves is in ``static/``, so nothing is loaded from outside at run time.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.responses import RedirectResponse
from starlette.staticfiles import StaticFiles

from sendout.dashboard.routes import (
    campaigns,
    customers,
    deliveries,
    distributions,
    events,
    overview,
    signin,
)

__all__ = ["install_dashboard"]


def install_dashboard(app: FastAPI) -> None:
    """Mount the pages, their static files, and ``/`` sending visitors to the dashboard."""
    for module in (signin, overview, deliveries, distributions, events, campaigns, customers):
        app.include_router(module.router)
    app.mount(
        "/dashboard/static",
        StaticFiles(packages=[("sendout.dashboard", "static")]),
        name="dashboard-static",
    )

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/dashboard", status_code=307)
