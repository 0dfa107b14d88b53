"""Everything a request handler needs, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from sendout.api.ratelimit import TokenBuckets
from sendout.clock import Clock
from sendout.pipeline.track import Ingest
from sendout.records import Project
from sendout.settings import Settings
from sendout.storage.base import Storage, Wake
from sendout.store_metrics import StoreGauges

__all__ = ["AppContext", "ManagementKey", "context_of"]


@dataclass(frozen=True, slots=True)
class ManagementKey:
    id: str
    token_sha256: str


def _no_worker(*, retries: bool = True) -> None:
    """The wake-up when this process runs no worker (``serve --no-worker``)."""


@dataclass(slots=True)
class AppContext:
    settings: Settings
    storage: Storage
    ingest: Ingest
    clock: Clock
    management: ManagementKey
    wake_worker: Wake = _no_worker
    # app_id -> (project, expires at monotonic seconds); a short cache in front of the store.
    project_cache: dict[str, tuple[Project, float]] = field(default_factory=dict)
    rate_limits: TokenBuckets | None = None
    store_gauges: StoreGauges = field(default_factory=StoreGauges)


def context_of(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx
