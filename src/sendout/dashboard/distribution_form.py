"""The distribution form: a distribution as form fields (JSON in textareas for the structured
parts) and the fields back as the API's request body, so the API's checks apply unchanged."""

from __future__ import annotations

import json
from typing import Any

from sendout.api.views import distribution_view
from sendout.dashboard.guard import Form
from sendout.records import Distribution

__all__ = ["EXAMPLE_EVENT", "FormProblem", "blank_fields", "body_of", "fields_of", "sample_event"]


class FormProblem(Exception):
    """A field that is not what it should be (the form is shown again with this message)."""


_PLAIN = {"type": "plain_message"}
_CHANNELS = [
    {
        "type": "webhook",
        "event_name": "welcome",
        "url": "https://hooks.example.com/sendout",
        "headers": {},
        "payload": {"mode": "default"},
    }
]
EXAMPLE_EVENT = {"event": "", "customer": {"source_id": "preview-customer"}, "metadata": {}}


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def blank_fields() -> dict[str, str]:
    return {
        "name": "",
        "event": "",
        "status": "ACTIVE",
        "action": _pretty(_PLAIN),
        "channels": _pretty(_CHANNELS),
        "conditions": "",
        "reentry": _pretty({"mode": "every_time"}),
        "sample": _pretty(EXAMPLE_EVENT),
    }


def fields_of(d: Distribution) -> dict[str, str]:
    """The form's fields for a saved distribution, as the API shows it."""
    view = distribution_view(d)
    channels = [
        {
            k: c[k]
            for k in (
                "type",
                "event_name",
                "url",
                "headers",
                "retry_schedule",
                "payload",
                "ordering",
            )
        }
        for c in view["channels"]
    ]
    for c in channels:
        if c["retry_schedule"] is None:
            del c["retry_schedule"]
        if c["ordering"] == "none":
            del c["ordering"]
    sample = {**EXAMPLE_EVENT, "event": d.trigger_event}
    return {
        "name": d.name,
        "event": d.trigger_event,
        "status": d.status,
        "action": _pretty(d.action),
        "channels": _pretty(channels),
        "conditions": _pretty(d.conditions) if d.conditions else "",
        "reentry": _pretty(view["reentry"]),
        "sample": _pretty(sample),
    }


def _json(form: Form, name: str, label: str, kind: type) -> Any:
    text = form.get(name)
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormProblem(f"{label}: not valid JSON ({exc.msg} at line {exc.lineno}).") from None
    if not isinstance(value, kind):
        raise FormProblem(f"{label}: must be a JSON {'object' if kind is dict else 'list'}.")
    return value


def body_of(form: Form) -> dict[str, Any]:
    """The ``POST /v1/distributions`` body the form describes (empty textareas left out, an
    empty Conditions meaning none)."""
    body: dict[str, Any] = {
        "name": form.get("name"),
        "trigger": {"type": "customer.custom_event", "event": form.get("event")},
        "action": _json(form, "action", "Action", dict),
        "channels": _json(form, "channels", "Channels", list),
        "status": form.get("status") or "ACTIVE",
        "conditions": _json(form, "conditions", "Conditions", dict) or {},
    }
    reentry = _json(form, "reentry", "Re-entry", dict)
    if reentry is not None:
        body["reentry"] = reentry
    return {k: v for k, v in body.items() if v is not None}


def sample_event(form: Form) -> dict[str, Any]:
    """The preview's sample event (its name defaults to the trigger's)."""
    sample = _json(form, "sample", "Sample event", dict) or dict(EXAMPLE_EVENT)
    if not sample.get("event"):
        sample["event"] = form.get("event")
    return dict(sample)
