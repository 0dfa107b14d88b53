"""The payload designer: the shape a channel asks for instead of the documented ``data``. Pure.

``{"mode": "default"}`` keeps the documented body. ``{"mode": "fields", "fields": {source:
target}}`` sends only the chosen attributes, renamed (dotted targets build nested objects).
``{"mode": "custom", "template": {...}, "raw": false}`` renders a JSON template: a string that
is exactly ``"{{path}}"`` takes the value (and JSON type) at that path, a string with embedded
``{{path}}`` placeholders becomes a string, dotted keys build nested objects, a value missing at
render time is ``null`` (an empty string inside a longer string). The result replaces ``data``
in the envelope; with ``"raw": true`` it is the whole body. Templates are data, never code.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from sendout.errors import InvalidInput

__all__ = [
    "MAX_TEMPLATE_BYTES",
    "MAX_TEMPLATE_DEPTH",
    "check_payload",
    "render",
    "roots_for",
]

JSON = dict[str, Any]
MAX_TEMPLATE_BYTES = 16_384
MAX_TEMPLATE_DEPTH = 8
MAX_PLACEHOLDERS = 200
_COMMON_ROOTS = ("event", "event_schema", "customer", "referral", "loyalty")
_PURPOSE_ROOTS = {
    "plain_message": (),
    "notify_promotion": ("campaign", "promotion_tier"),
    "publish_unique_code": ("campaign", "voucher", "publication"),
}
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
_WHOLE = re.compile(r"^\{\{\s*([^{}\s]+)\s*\}\}$")
_MISSING = object()


def roots_for(purpose: str) -> tuple[str, ...]:
    """The keys of ``data`` a channel of a distribution with this purpose can read."""
    return (*_COMMON_ROOTS, *_PURPOSE_ROOTS.get(purpose, ()))


def _refuse(where: str, why: str) -> InvalidInput:
    return InvalidInput(
        f"{where}.payload: {why}", key="invalid_payload_template", message="Invalid payload"
    )


# --- checked at save ----------------------------------------------------------------------------


def check_payload(raw: Any, purpose: str, where: str) -> JSON | None:
    """The payload to store (``None`` for the default body); ``invalid_payload_template`` (400)
    for a shape, a path or a size sendout does not take."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("mode") not in ("default", "fields", "custom"):
        raise _refuse(where, 'mode must be "default", "fields" or "custom"')
    mode = raw["mode"]
    allowed = {
        "default": {"mode"},
        "fields": {"mode", "fields"},
        "custom": {"mode", "template", "raw"},
    }
    unknown = sorted(set(raw) - allowed[mode])
    if unknown:
        raise _refuse(where, f"a {mode} payload takes no {unknown[0]!r}")
    if mode == "default":
        return None
    roots = roots_for(purpose)
    if mode == "fields":
        return {"mode": mode, "fields": _check_fields(raw.get("fields"), roots, where)}
    template = raw.get("template")
    if not isinstance(template, dict) or not template:
        raise _refuse(where, "template must be a non-empty JSON object")
    if not isinstance(raw.get("raw", False), bool):
        raise _refuse(where, "raw must be true or false")
    if len(orjson.dumps(template)) > MAX_TEMPLATE_BYTES:
        raise _refuse(where, f"template must be at most {MAX_TEMPLATE_BYTES} bytes as JSON")
    found: list[str] = []
    _collect(template, found, where, depth=1)
    if len(found) > MAX_PLACEHOLDERS:
        raise _refuse(where, f"at most {MAX_PLACEHOLDERS} placeholders")
    for path in found:
        _check_path(path, roots, where)
    return {"mode": mode, "template": template, "raw": bool(raw.get("raw", False))}


def _check_fields(fields: Any, roots: tuple[str, ...], where: str) -> dict[str, str]:
    if not isinstance(fields, dict) or not fields:
        raise _refuse(where, "fields must map source paths to target names")
    if len(fields) > MAX_PLACEHOLDERS:
        raise _refuse(where, f"at most {MAX_PLACEHOLDERS} fields")
    for source, target in fields.items():
        _check_path(source, roots, where)
        if not isinstance(target, str) or not all(target.split(".")):
            raise _refuse(where, f"the target of {source!r} must be a dotted name, got {target!r}")
    _check_targets(list(fields.values()), where)
    return dict(fields)


def _check_targets(targets: list[str], where: str) -> None:
    """No target may be another's prefix (``a`` and ``a.b`` cannot both be set)."""
    seen: set[str] = set()
    for target in targets:
        if target in seen:
            raise _refuse(where, f"target {target!r} is given twice")
        seen.add(target)
    for target in targets:
        parts = target.split(".")
        for cut in range(1, len(parts)):
            prefix = ".".join(parts[:cut])
            if prefix in seen:
                raise _refuse(where, f"targets {prefix!r} and {target!r} overlap")


def _check_path(path: str, roots: tuple[str, ...], where: str) -> None:
    parts = path.split(".")
    if parts[0] not in roots or not all(parts):
        raise _refuse(where, f"unknown path {path!r}; paths start with {', '.join(roots)}")


def _collect(value: Any, found: list[str], where: str, depth: int) -> None:
    if depth > MAX_TEMPLATE_DEPTH:
        raise _refuse(where, f"template may nest {MAX_TEMPLATE_DEPTH} levels at most")
    if isinstance(value, str):
        found.extend(_PLACEHOLDER.findall(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            if not all(key.split(".")):
                raise _refuse(where, f"template key {key!r} has an empty part")
            _collect(item, found, where, depth + 1)
        _check_targets(list(value), where)
    elif isinstance(value, list):
        for item in value:
            _collect(item, found, where, depth + 1)


# --- rendered per delivery ----------------------------------------------------------------------


def render(payload: JSON, data: JSON) -> Any:
    """What the channel sends in place of ``data`` (or as the whole body when ``raw``)."""
    if payload["mode"] == "fields":
        out: JSON = {}
        for source, target in payload["fields"].items():
            _put(out, target, _value(data, source))
        return out
    return _fill(payload["template"], data)


def _fill(value: Any, data: JSON) -> Any:
    if isinstance(value, str):
        whole = _WHOLE.match(value)
        if whole is not None:
            return _value(data, whole.group(1))
        return _PLACEHOLDER.sub(lambda m: _text(_value(data, m.group(1))), value)
    if isinstance(value, dict):
        out: JSON = {}
        for key, item in value.items():
            _put(out, key, _fill(item, data))
        return out
    if isinstance(value, list):
        return [_fill(item, data) for item in value]
    return value


def _value(data: JSON, path: str) -> Any:
    found = _lookup(data, path)
    return None if found is _MISSING else found


def _lookup(data: Any, path: str) -> Any:
    value = data
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif (
            isinstance(value, list)
            and part.isascii()
            and part.isdecimal()
            and int(part) < len(value)
        ):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _put(out: JSON, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = out
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value
