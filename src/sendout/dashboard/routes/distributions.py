"""Distributions: the list with status, one distribution with its channels' health, Pause and
Resume, and the create and edit form with the API's preview."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from sendout.api import operations
from sendout.api.body import parse_model
from sendout.api.context import context_of
from sendout.api.routes.distributions import (
    create_distribution_with,
    distribution_of,
    preview_for,
    update_distribution_with,
)
from sendout.api.schemas import DistributionIn, DistributionPatchIn, PreviewIn
from sendout.dashboard.distribution_form import (
    FormProblem,
    blank_fields,
    body_of,
    fields_of,
    sample_event,
)
from sendout.dashboard.guard import Form, PostedForm, SignedIn
from sendout.dashboard.lookups import masked_headers
from sendout.dashboard.pages import PageError, PageRoute, page, redirect
from sendout.errors import InvalidInput
from sendout.records import Page, Project

__all__ = ["router"]

router = APIRouter(
    prefix="/dashboard/distributions", route_class=PageRoute, include_in_schema=False
)

PAGE_SIZE = 25


@router.get("")
async def list_distributions(
    request: Request, project: SignedIn, page_number: int = Query(1, alias="page", ge=1)
) -> Response:
    paging = Page(PAGE_SIZE, page_number)
    found, total = await context_of(request).storage.list_distributions(project.id, paging)
    return page(
        request,
        "distributions/list.html",
        title="Distributions",
        distributions=found,
        total=total,
        paging=paging,
        query=lambda n=page_number: f"/dashboard/distributions?page={n}",
    )


async def _form_page(
    request: Request,
    project: Project,
    fields: dict[str, str],
    *,
    distribution_id: str | None = None,
    error: str | None = None,
) -> Response:
    schemas = await context_of(request).storage.list_event_schemas(project.id)
    return page(
        request,
        "distributions/form.html",
        400 if error else 200,
        title="Edit distribution" if distribution_id else "New distribution",
        fields=fields,
        schemas=schemas,
        distribution_id=distribution_id,
        error=error,
    )


@router.get("/new")
async def new_distribution(request: Request, project: SignedIn) -> Response:
    return await _form_page(request, project, blank_fields())


@router.post("")
async def create_distribution(request: Request, project: SignedIn, form: PostedForm) -> Response:
    try:
        body = parse_model(DistributionIn, body_of(form))
        created = await create_distribution_with(context_of(request), project, body)
    except (FormProblem, InvalidInput) as problem:
        return await _form_page(request, project, form.fields, error=_says(problem))
    return redirect(f"/dashboard/distributions/{created.id}?saved=1")


@router.post("/preview")
async def preview(request: Request, project: SignedIn, form: PostedForm) -> Response:
    """The preview panel (an htmx fragment) for the distribution the form describes now."""
    ctx = context_of(request)
    try:
        body = parse_model(PreviewIn, {"distribution": body_of(form), "event": sample_event(form)})
        assert body.distribution is not None
        result = await preview_for(
            ctx, project, await distribution_of(ctx, project, body.distribution), body
        )
    except (FormProblem, InvalidInput) as problem:
        return page(request, "distributions/preview.html", preview=None, error=_says(problem))
    for delivery in result["deliveries"]:
        delivery["headers"] = masked_headers(delivery["headers"])
    return page(request, "distributions/preview.html", preview=result, error=None)


def _says(problem: Exception) -> str:
    if isinstance(problem, InvalidInput):
        return f"{problem.message}: {problem.details}"
    return str(problem)


@router.get("/{distribution_id}")
async def show_distribution(
    distribution_id: str, request: Request, project: SignedIn, saved: int | None = Query(None)
) -> Response:
    found = await context_of(request).storage.get_distribution(project.id, distribution_id)
    return page(
        request,
        "distributions/show.html",
        title=found.name,
        distribution=found,
        channels=[(c, found.state_of(i)) for i, c in enumerate(found.channels)],
        fields=fields_of(found),
        saved=saved,
    )


@router.get("/{distribution_id}/edit")
async def edit_distribution(distribution_id: str, request: Request, project: SignedIn) -> Response:
    found = await context_of(request).storage.get_distribution(project.id, distribution_id)
    return await _form_page(request, project, fields_of(found), distribution_id=found.id)


@router.post("/{distribution_id}")
async def update_distribution(
    distribution_id: str, request: Request, project: SignedIn, form: PostedForm
) -> Response:
    try:
        body = parse_model(DistributionPatchIn, body_of(form))
        await update_distribution_with(context_of(request), project, distribution_id, body)
    except (FormProblem, InvalidInput) as problem:
        return await _form_page(
            request, project, form.fields, distribution_id=distribution_id, error=_says(problem)
        )
    return redirect(f"/dashboard/distributions/{distribution_id}?saved=1")


def _back(form: Form, distribution_id: str) -> str:
    return (
        "/dashboard/distributions"
        if form.get("back") == "list"
        else f"/dashboard/distributions/{distribution_id}"
    )


_SWITCHES = {"pause": operations.pause, "resume": operations.resume}


@router.post("/{distribution_id}/{switch}")
async def pause_or_resume(
    distribution_id: str, switch: str, request: Request, project: SignedIn, form: PostedForm
) -> Response:
    """**Pause** and **Resume**: the API's operations."""
    operation = _SWITCHES.get(switch)
    if operation is None:
        raise PageError(404, "Not found", f"There is nothing to {switch} here.")
    await operation(context_of(request), project.id, distribution_id)
    return redirect(_back(form, distribution_id))
