"""The OpenAPI document: request bodies (read by hand, for precise errors, so their schemas are
added here), the two key pairs as security schemes with each operation naming its own, and the
error object on every refusal an operation can answer."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

__all__ = ["body_doc", "install_openapi"]

_MODELS: dict[str, type[BaseModel]] = {}
_REF = "#/components/schemas/{model}"


def body_doc(model: type[BaseModel], description: str | None = None) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON request body of ``model``."""
    _MODELS[model.__name__] = model
    body: dict[str, Any] = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}},
    }
    if description:
        body["description"] = description
    return {"requestBody": body}


SECURITY_SCHEMES = {
    "AppId": {"type": "apiKey", "in": "header", "name": "X-App-Id"},
    "AppToken": {"type": "apiKey", "in": "header", "name": "X-App-Token"},
    "ManagementId": {"type": "apiKey", "in": "header", "name": "X-Management-Id"},
    "ManagementToken": {"type": "apiKey", "in": "header", "name": "X-Management-Token"},
}
_APP: list[dict[str, list[str]]] = [{"AppId": [], "AppToken": []}]
_MANAGEMENT: list[dict[str, list[str]]] = [{"ManagementId": [], "ManagementToken": []}]

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "description": "Voucherify's error object: every refusal carries it.",
    "type": "object",
    "required": ["code", "key", "message", "details", "request_id"],
    "properties": {
        "code": {"type": "integer", "description": "The HTTP status."},
        "key": {"type": "string", "description": "What went wrong, for programs."},
        "message": {"type": "string"},
        "details": {"type": "string", "description": "What went wrong, for people."},
        "request_id": {"type": "string", "description": "Also the x-request-id header."},
        "resource_id": {"type": "string"},
        "resource_type": {"type": "string"},
    },
}
_REFUSALS = {
    "400": "Invalid input (the key says what: invalid_payload, missing_<field>, …)",
    "401": "Missing or wrong keys",
    "404": "Not found in this project",
    "409": "Conflicts with what is stored",
    "413": "The body is over the size limit",
    "415": "The body is not JSON",
    "429": "Over the project's rate limit",
}


def _describe(path: str, method: str, operation: dict[str, Any]) -> None:
    """Who may call the operation, and the error object of each refusal it can answer."""
    if path.startswith("/management/"):
        operation["security"] = _MANAGEMENT
    elif path.startswith("/v1/"):
        operation["security"] = _APP
    else:
        return
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)  # validation errors are answered as 400 with the error object
    codes = ["400", "401", "429"]
    if "{" in path:
        codes.append("404")
    if method in ("post", "put", "delete"):
        codes.append("409")
    if "requestBody" in operation:
        codes += ["413", "415"]
    for code in sorted(codes):
        responses.setdefault(
            code,
            {
                "description": _REFUSALS[code],
                "content": {"application/json": {"schema": {"$ref": _REF.format(model="Error")}}},
            },
        )


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        for name, model in _MODELS.items():
            schema = model.model_json_schema(ref_template=_REF, by_alias=True)
            schemas.update(schema.pop("$defs", {}))
            schemas[name] = schema
        schemas["Error"] = ERROR_SCHEMA
        spec["components"]["securitySchemes"] = SECURITY_SCHEMES
        for path, operations in spec.get("paths", {}).items():
            for method, operation in operations.items():
                _describe(path, method, operation)
        app.openapi_schema = spec
        return spec

    app.openapi = build  # type: ignore[method-assign]
