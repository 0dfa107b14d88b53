"""Prefixed identifiers in Voucherify's shapes (``cust_`` + 24 alphanumerics, ``whs_`` + 18 hex…)."""

from __future__ import annotations

import secrets
import string

__all__ = [
    "activity_id",
    "campaign_id",
    "customer_id",
    "delivery_id",
    "distribution_id",
    "event_id",
    "event_schema_id",
    "project_id",
    "request_id",
    "secret_token",
]

_ALNUM = string.ascii_letters + string.digits


def _alnum(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def _hex(n: int) -> str:
    return secrets.token_hex((n + 1) // 2)[:n]


def customer_id() -> str:
    return "cust_" + _alnum(24)


def event_id() -> str:
    """Id of a stored custom event (``data.event.id``)."""
    return "event_" + _hex(18)


def activity_id() -> str:
    """Id of the customer-activity event that caused a send-out (envelope ``event.id``)."""
    return "evcus_" + _hex(18)


def event_schema_id() -> str:
    return "ms_" + _alnum(24)


def distribution_id() -> str:
    return "distr_" + _alnum(26)


def delivery_id() -> str:
    """Id of one webhook send-out, stable across its retries."""
    return "whs_" + _hex(18)


def project_id() -> str:
    return "proj_" + _alnum(12)


def campaign_id() -> str:
    return "camp_" + _alnum(24)


def request_id() -> str:
    """Id of one API request (error ``request_id``, envelope ``event.group_id``)."""
    return "v-" + _hex(18)


def secret_token(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)
