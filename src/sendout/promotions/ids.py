"""Prefixed ids of the promotion objects, in Voucherify's shapes."""

from __future__ import annotations

import secrets
import string

from sendout.promotions.codes import random_strings

__all__ = [
    "conversion_id",
    "earning_rule_id",
    "outcome_id",
    "promotion_tier_id",
    "publication_id",
    "transaction_id",
    "voucher_id",
    "voucher_ids",
]

_ALNUM = string.ascii_letters + string.digits


def _alnum(n: int) -> str:
    return random_strings(_ALNUM, n, 1)[0]


def voucher_id() -> str:
    return "v_" + _alnum(32)


def voucher_ids(count: int) -> list[str]:
    """Many voucher ids at once (bulk generation)."""
    return ["v_" + s for s in random_strings(_ALNUM, 32, count)]


def publication_id() -> str:
    return "pub_" + _alnum(32)


def promotion_tier_id() -> str:
    return "promo_" + _alnum(24)


def earning_rule_id() -> str:
    return "ern_" + _alnum(24)


def transaction_id() -> str:
    return "vtx_" + secrets.token_hex(12)


def conversion_id() -> str:
    return "rcv_" + secrets.token_hex(12)


def outcome_id() -> str:
    return "dout_" + secrets.token_hex(12)
