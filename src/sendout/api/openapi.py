"""The OpenAPI document: request bodies (read by hand, for precise errors, so their schemas are
added here), the success responses of ``response_schemas``, the two key pairs as security
schemes with each operation naming its own, and the error object on every refusal an operation
can answer."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from sendout.api.response_schemas import COMPONENTS, STREAMS, SUCCESSES

__all__ = ["allowed_methods", "body_doc", "install_openapi"]

_MODELS: dict[str, type[BaseModel]] = {}
_REF = "#/components/schemas/{model}"


def body_doc(
    model: type[BaseModel],
    description: str | None = None,
    *,
    max_items: int | None = None,
    optional: bool = False,
) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON request body of ``model`` (with ``max_items``: an
    array of 1 to ``max_items`` of them; ``optional``: an empty body means every default)."""
    _MODELS[model.__name__] = model
    schema: dict[str, Any] = {"$ref": _REF.format(model=model.__name__)}
    if max_items is not None:
        schema = {"type": "array", "items": schema, "minItems": 1, "maxItems": max_items}
    content = {"application/json": {"schema": schema}}
    body: dict[str, Any] = {"required": not optional, "content": content}
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


def _succeed(path: str, method: str, operation: dict[str, Any]) -> None:
    """The operation's success responses in place of FastAPI's guess (a string)."""
    responses = operation.setdefault("responses", {})
    media = STREAMS.get((method, path))
    if media is not None:
        responses["200"] = {
            "description": "Successful Response",
            "content": {media: {"schema": {"type": "string"}}},
        }
        return
    successes = SUCCESSES.get((method, path))
    if successes is None:
        raise KeyError(f"{method.upper()} {path} has no success response in response_schemas")
    for code in [c for c in responses if c.startswith("2")]:
        del responses[code]
    for status, component in successes:
        answer: dict[str, Any] = {"description": "Successful Response"}
        if component is not None:
            answer["content"] = {
                "application/json": {"schema": {"$ref": _REF.format(model=component)}}
            }
        responses[str(status)] = answer


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    branches = schema.get("anyOf", [])
    if {"type": "null"} in branches or schema.get("type") == "null":
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def _null_is_absent(schema: dict[str, Any]) -> None:
    """A body is read with its nulls dropped, at every depth (``strip_nulls``): an optional
    key may be null, and a key holding null is never an unknown one."""
    for child in _children(schema):
        _null_is_absent(child)
    required = set(schema.get("required", []))
    properties = schema.get("properties", {})
    for name, value in properties.items():
        value = _ref_alone(value)
        properties[name] = value if name in required else _or_null(value)
    extra = schema.get("additionalProperties")
    if extra is False:
        schema["additionalProperties"] = {"type": "null"}
    elif isinstance(extra, dict):
        schema["additionalProperties"] = _or_null(extra)


def _ref_alone(schema: dict[str, Any]) -> dict[str, Any]:
    """A ``$ref`` with more rules beside it as ``allOf`` of both: generators skip siblings."""
    if "$ref" not in schema or len(schema) == 1:
        return schema
    rules = {k: v for k, v in schema.items() if k != "$ref"}
    return {"allOf": [{"$ref": schema["$ref"]}, rules]}


def _children(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schemas inside ``schema``: of its properties, items and branches."""
    found = list(schema.get("properties", {}).values())
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), dict):
            found.append(schema[key])
    for key in ("anyOf", "oneOf", "allOf"):
        found += schema.get(key, [])
    return found


def _plain_parameters(operation: dict[str, Any]) -> None:
    """A query parameter left out is ``None`` to the route, never a null sent: the schema of
    what can be sent is the non-null branch of FastAPI's ``anyOf``."""
    for parameter in operation.get("parameters", []):
        schema = parameter["schema"]
        branches = [b for b in schema.pop("anyOf", []) if b.get("type") != "null"]
        if len(branches) == 1:
            schema.update(branches[0])
        elif branches:
            schema["anyOf"] = branches


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
    if "{" in path or "requestBody" in operation or operation.get("parameters"):
        codes.append("404")  # a path, a body or a filter can name what is not there
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
        for schema in schemas.values():
            _null_is_absent(schema)
        schemas.update(COMPONENTS)
        schemas["Error"] = ERROR_SCHEMA
        spec["components"]["securitySchemes"] = SECURITY_SCHEMES
        for path, operations in spec.get("paths", {}).items():
            for method, operation in operations.items():
                _succeed(path, method, operation)
                _plain_parameters(operation)
                _describe(path, method, operation)
        app.openapi_schema = spec
        return spec

    app.openapi = build  # type: ignore[method-assign]


def allowed_methods(app: FastAPI, path: str) -> str | None:
    """The ``Allow`` header of ``path``: the methods the document has for it, under the
    templates with the fewest parameters it matches (``/v1/distributions/preview`` is not a
    distribution's id), or ``None`` for a path the document does not describe."""
    matched = [(t.count("{"), known) for t, p, known in _path_methods(app) if p.fullmatch(path)]
    if not matched:
        return None
    fewest = min(count for count, _ in matched)
    methods = {m for count, known in matched if count == fewest for m in known}
    return ", ".join(sorted(methods))


def _path_methods(app: FastAPI) -> list[tuple[str, re.Pattern[str], list[str]]]:
    """Each path template of the document, as a pattern too, with its methods (built once)."""
    table: list[tuple[str, re.Pattern[str], list[str]]] | None = getattr(app.state, "allow", None)
    if table is None:
        table = []
        for template, operations in app.openapi().get("paths", {}).items():
            pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
            table.append((template, re.compile(pattern), [m.upper() for m in operations]))
        app.state.allow = table
    return table
