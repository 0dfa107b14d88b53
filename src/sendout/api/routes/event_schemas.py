"""Custom event schemas (Management API): what events exist and their typed metadata."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from sendout import ids
from sendout.api.auth import management_access
from sendout.api.body import read_model
from sendout.api.context import context_of
from sendout.api.openapi import body_doc
from sendout.api.responses import JsonResponse, list_body
from sendout.api.schemas import EventSchemaIn, EventSchemaUpdateIn, SchemaBodyIn
from sendout.api.views import event_schema_view
from sendout.clock import isoformat
from sendout.errors import InvalidInput
from sendout.events.metadata import PROPERTY_TYPES
from sendout.records import PropertyDef

__all__ = ["router"]

router = APIRouter(
    prefix="/management/v1/projects/{projectId}/custom-event-schemas",
    tags=["custom event schemas"],
    dependencies=[Depends(management_access)],
)


def _properties(schema: SchemaBodyIn) -> dict[str, PropertyDef]:
    checked: dict[str, PropertyDef] = {}
    for name, prop in schema.properties.items():
        if not name or len(name) > 300:
            raise InvalidInput(
                "schema.properties names must be 1 to 300 characters", key="invalid_schema"
            )
        if prop.type not in PROPERTY_TYPES:
            raise InvalidInput(
                f"schema.properties.{name}.type must be one of {', '.join(PROPERTY_TYPES)},"
                f" got '{prop.type}'",
                key="invalid_schema",
                message="Invalid schema",
            )
        checked[name] = PropertyDef(type=prop.type, optional=prop.optional, deleted=prop.deleted)
    return checked


@router.post(
    "",
    summary="Create a custom event schema",
    openapi_extra=body_doc(EventSchemaIn),
    response_class=JsonResponse,
)
async def create_schema(projectId: str, request: Request) -> JsonResponse:
    ctx = context_of(request)
    await ctx.storage.get_project(projectId)
    body = await read_model(request, EventSchemaIn, ctx.settings.max_body_bytes)
    created = await ctx.storage.create_event_schema(
        projectId,
        ids.event_schema_id(),
        body.name,
        _properties(body.schema_),
        isoformat(ctx.clock.now()),
    )
    return JsonResponse(event_schema_view(created))


@router.get("", summary="List custom event schemas", response_class=JsonResponse)
async def list_schemas(projectId: str, request: Request) -> JsonResponse:
    ctx = context_of(request)
    await ctx.storage.get_project(projectId)
    found = await ctx.storage.list_event_schemas(projectId)
    return JsonResponse(list_body("data", [event_schema_view(s) for s in found], len(found)))


@router.get("/{schemaId}", summary="Get a custom event schema", response_class=JsonResponse)
async def get_schema(projectId: str, schemaId: str, request: Request) -> JsonResponse:
    schema = await context_of(request).storage.get_event_schema(projectId, schemaId)
    return JsonResponse(event_schema_view(schema))


@router.put(
    "/{schemaId}",
    summary="Replace the properties of a custom event schema",
    openapi_extra=body_doc(EventSchemaUpdateIn),
    response_class=JsonResponse,
)
async def update_schema(projectId: str, schemaId: str, request: Request) -> JsonResponse:
    ctx = context_of(request)
    body = await read_model(request, EventSchemaUpdateIn, ctx.settings.max_body_bytes)
    updated = await ctx.storage.update_event_schema(
        projectId, schemaId, _properties(body.schema_), isoformat(ctx.clock.now())
    )
    return JsonResponse(event_schema_view(updated))


@router.delete("/{schemaId}", summary="Delete a custom event schema", status_code=204)
async def delete_schema(projectId: str, schemaId: str, request: Request) -> Response:
    await context_of(request).storage.delete_event_schema(projectId, schemaId)
    return Response(status_code=204)
