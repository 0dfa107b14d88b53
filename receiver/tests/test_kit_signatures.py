"""verify(): Voucherify's published vectors, Standard Webhooks signatures made by the
``standardwebhooks`` library, tampering, missing headers, rotation, and the time window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kit_support import OLD_SECRET, SECRET, standard_headers
from sendout_receiver import (
    InvalidSignature,
    MissingHeader,
    TimestampOutOfRange,
    WebhookVerificationError,
    verify,
)

NOW = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)
BODY = b'{"id":"whs_1","data":{"name":"Zo\xc3\xa9"}}'

# Voucherify's published vectors (key ``secretKey``): digest section 1.4.
VOUCHERIFY_VECTORS = [
    (b'{"a":1}', "a17d2ac229d1ebbb5f10e839c7985c4818e5986eab297f7e5979196d4d7d3ed2"),
    (b'{"a\\"b":1}', "f7cf97814a03146abedb9793f56e1dec34f618f82d10395310d053f749483ffb"),
    (b"  message  ", "53ff92957e1427ce23ad5bda9d0c5f2f4ff384d0806b83eeacb510c842d3a358"),
]


@pytest.mark.parametrize(("body", "signature"), VOUCHERIFY_VECTORS)
def test_voucherify_published_vectors_verify(body: bytes, signature: str) -> None:
    verify(body, {"x-voucherify-signature": signature}, "secretKey")


def test_voucherify_header_name_is_case_insensitive() -> None:
    signature = VOUCHERIFY_VECTORS[0][1]
    verify(b'{"a":1}', {"X-Voucherify-Signature": signature.upper()}, "secretKey")


def test_voucherify_tampered_body_or_wrong_secret_is_refused() -> None:
    body, signature = VOUCHERIFY_VECTORS[0]
    with pytest.raises(InvalidSignature):
        verify(b'{"a":2}', {"x-voucherify-signature": signature}, "secretKey")
    with pytest.raises(InvalidSignature):
        verify(body, {"x-voucherify-signature": signature}, "otherKey")
    with pytest.raises(InvalidSignature):
        verify(body, {"x-voucherify-signature": "é" + signature[1:]}, "secretKey")


def test_voucherify_missing_header() -> None:
    with pytest.raises(MissingHeader) as raised:
        verify(b'{"a":1}', {"content-type": "application/json"}, "secretKey")
    assert raised.value.header == "x-voucherify-signature"


def test_a_whsec_secret_checks_voucherify_header_only_when_asked() -> None:
    """sendout keys ``x-voucherify-signature`` with its ``whsec_`` string as it is."""
    import hashlib
    import hmac

    signature = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    verify(BODY, {"x-voucherify-signature": signature}, SECRET, scheme="voucherify")
    with pytest.raises(MissingHeader):  # auto: a whsec_ secret means Standard Webhooks
        verify(BODY, {"x-voucherify-signature": signature}, SECRET)


def test_standard_webhooks_signature_from_the_library_verifies() -> None:
    verify(BODY, standard_headers(BODY, NOW), SECRET, now=NOW)


def test_standard_header_names_are_case_insensitive() -> None:
    headers = {k.title(): v for k, v in standard_headers(BODY, NOW).items()}
    verify(BODY, headers, SECRET, now=NOW)


def test_standard_tampered_body_id_or_timestamp_is_refused() -> None:
    headers = standard_headers(BODY, NOW)
    with pytest.raises(InvalidSignature):
        verify(BODY.replace(b"whs_1", b"whs_2"), headers, SECRET, now=NOW)
    with pytest.raises(InvalidSignature):
        verify(BODY, {**headers, "webhook-id": "whs_other"}, SECRET, now=NOW)
    moved = str(int(NOW.timestamp()) + 1)
    with pytest.raises(InvalidSignature):
        verify(BODY, {**headers, "webhook-timestamp": moved}, SECRET, now=NOW)


def test_standard_wrong_secret_or_version_is_refused() -> None:
    headers = standard_headers(BODY, NOW)
    with pytest.raises(InvalidSignature):
        verify(BODY, headers, OLD_SECRET, now=NOW)
    v2 = headers["webhook-signature"].replace("v1,", "v2,")
    with pytest.raises(InvalidSignature):
        verify(BODY, {**headers, "webhook-signature": v2}, SECRET, now=NOW)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_standard_missing_header(missing: str) -> None:
    headers = standard_headers(BODY, NOW)
    del headers[missing]
    with pytest.raises(MissingHeader) as raised:
        verify(BODY, headers, SECRET, now=NOW)
    assert raised.value.header == missing
    with pytest.raises(MissingHeader):
        verify(BODY, {**standard_headers(BODY, NOW), missing: " "}, SECRET, now=NOW)


def test_rotation_either_of_two_signatures_verifies() -> None:
    headers = standard_headers(BODY, NOW, SECRET, OLD_SECRET)
    assert len(headers["webhook-signature"].split(" ")) == 2
    verify(BODY, headers, SECRET, now=NOW)  # a receiver already on the new secret
    verify(BODY, headers, OLD_SECRET, now=NOW)  # one not yet updated
    with pytest.raises(InvalidSignature):
        verify(BODY, headers, "whsec_" + "QUJD" * 8, now=NOW)


@pytest.mark.parametrize("offset", [-301, 301, -3600, 86400])
def test_timestamps_too_old_or_too_new_are_refused(offset: int) -> None:
    signed_at = NOW + timedelta(seconds=offset)
    headers = standard_headers(BODY, signed_at)
    with pytest.raises(TimestampOutOfRange):
        verify(BODY, headers, SECRET, now=NOW)
    verify(BODY, headers, SECRET, now=NOW, tolerance=abs(offset))  # the same, allowed


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_timestamps_within_tolerance_verify(offset: int) -> None:
    headers = standard_headers(BODY, NOW + timedelta(seconds=offset))
    verify(BODY, headers, SECRET, now=NOW)


def test_now_defaults_to_the_clock() -> None:
    stale = standard_headers(BODY, datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(TimestampOutOfRange):
        verify(BODY, stale, SECRET)
    verify(BODY, standard_headers(BODY, datetime.now(UTC)), SECRET)


def test_a_timestamp_that_is_not_a_number_is_refused() -> None:
    headers = {**standard_headers(BODY, NOW), "webhook-timestamp": "yesterday"}
    with pytest.raises(TimestampOutOfRange):
        verify(BODY, headers, SECRET, now=NOW)


def test_every_failure_is_a_webhook_verification_error() -> None:
    for error in (MissingHeader, InvalidSignature, TimestampOutOfRange):
        assert issubclass(error, WebhookVerificationError)


def test_a_secret_that_is_not_base64_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="base64"):
        verify(BODY, standard_headers(BODY, NOW), "whsec_not*base64!", now=NOW)
