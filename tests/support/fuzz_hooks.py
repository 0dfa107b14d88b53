"""Schemathesis hooks of test_openapi_fuzz.py (loaded through ``SCHEMATHESIS_HOOKS``): a campaign
of a million codes is documented and takes ~20 s before its answer, so the fuzzer's campaigns
ask for at most ``FUZZ_MAX_CODES``; what the document refuses is sent as generated."""

from __future__ import annotations

from typing import Any

import schemathesis

from sendout.promotions.campaigns import MAX_VOUCHERS_COUNT

FUZZ_MAX_CODES = 1000


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    count = body.get("vouchers_count")
    if type(count) is int and FUZZ_MAX_CODES < count <= MAX_VOUCHERS_COUNT:
        return {**body, "vouchers_count": FUZZ_MAX_CODES}
    return body
