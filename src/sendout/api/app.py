"""The ASGI application and its life cycle (store, credentials, in-process worker)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from sendout import __version__
from sendout.api.context import AppContext, ManagementKey
from sendout.api.direct import DirectRoutes
from sendout.api.docs import install_docs
from sendout.api.errors import RequestIdMiddleware, install_error_handlers
from sendout.api.openapi import install_openapi
from sendout.api.ratelimit import TokenBuckets
from sendout.api.responses import JsonResponse
from sendout.api.routes import (
    customers,
    deliveries,
    distributions,
    event_schemas,
    events,
    events_bulk,
    operations,
    projects,
    simulations,
    streams,
    voucherify_secrets,
)
from sendout.api.routes.promotions import install_promotion_routes
from sendout.bootstrap import ensure_credentials, make_worker, open_storage
from sendout.clock import Clock, SystemClock
from sendout.console import NEW_CREDENTIALS, print_credentials
from sendout.dashboard import install_dashboard
from sendout.delivery.worker_process import WorkerProcess
from sendout.pipeline.track import Ingest
from sendout.settings import Settings, shown_url

__all__ = ["create_app"]

log = structlog.get_logger("sendout.app")

DESCRIPTION = """Custom events in, signed Voucherify-compatible `customer.custom_event` webhooks out.

`/v1/*` takes `X-App-Id` + `X-App-Token`; `/management/v1/*` takes `X-Management-Id` +
`X-Management-Token`. Every error is Voucherify's error object
(`code, key, message, details, request_id`)."""


def _rate_limits(settings: Settings) -> TokenBuckets | None:
    if settings.rate_limit <= 0:
        return None
    burst = settings.rate_burst or max(1, int(settings.rate_limit * 2))
    return TokenBuckets(settings.rate_limit, burst)


def create_app(
    settings: Settings,
    *,
    run_worker: bool = True,
    clock: Clock | None = None,
    prepared: bool = False,
) -> FastAPI:
    """``prepared``: the caller already opened the store and made the credentials once (and
    said what there was to say), so this start is quiet."""
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        storage = await open_storage(settings, announce=not prepared)
        creds = await ensure_credentials(storage, settings, clock)
        if creds.generated:
            print_credentials(creds, title=NEW_CREDENTIALS)
        ctx = AppContext(
            settings=settings,
            storage=storage,
            ingest=Ingest(storage),
            clock=clock,
            management=ManagementKey(creds.management_id, creds.management_token_sha256),
            rate_limits=_rate_limits(settings),
        )
        app.state.ctx = ctx
        stop = asyncio.Event()
        worker_task = None
        sender = None
        child = None
        if run_worker and settings.worker_mode == "process":
            child = WorkerProcess(settings.database_url, log_format=settings.log_format)
            await child.start()
            ctx.wake_worker = child.wake
        elif run_worker:
            worker, sender = make_worker(storage, settings, clock)
            ctx.wake_worker = worker.wake
            worker_task = asyncio.create_task(worker.run(stop))
        base = f"http://{settings.host}:{settings.port}"
        log.info(
            "sendout.started",
            api=base,
            dashboard=f"{base}/dashboard",
            docs=f"{base}/docs",
            database=shown_url(settings.database_url),
            worker=settings.worker_mode if run_worker else "none",
        )
        try:
            yield
        finally:
            stop.set()
            if child is not None:
                await child.stop()
            if worker_task is not None:
                await worker_task
            if sender is not None:
                await sender.close()
            await ctx.ingest.close()
            await storage.close()

    app = FastAPI(
        title="sendout",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=JsonResponse,
        # sendout exports Prometheus metrics itself; skip FastAPI's per-request OpenTelemetry.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    install_openapi(app)
    install_docs(app)
    # Added first, so it runs inside the request-id middleware (the last added is outermost).
    direct = {
        ("POST", "/v1/events"): events.track_event,
        ("POST", "/v1/events/bulk"): events_bulk.track_events,
    }
    app.add_middleware(DirectRoutes, routes=direct)
    app.add_middleware(RequestIdMiddleware)
    for module in (
        events,
        events_bulk,
        customers,
        event_schemas,
        projects,
        voucherify_secrets,
        distributions,
        simulations,
        streams,
        deliveries,
        operations,
    ):
        app.include_router(module.router)
    install_promotion_routes(app)
    install_dashboard(app)

    return app
