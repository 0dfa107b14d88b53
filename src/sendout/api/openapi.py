"""Request bodies are read by hand (for precise errors), so their schemas are added here."""

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
        app.openapi_schema = spec
        return spec

    app.openapi = build  # type: ignore[method-assign]
