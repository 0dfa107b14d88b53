"""Token digests, the sealing cipher, the secret settings and the Voucherify secret's stages."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from sendout import voucherify_secret as vs
from sendout.delivery.signer import SigningKeys, signature_headers
from sendout.errors import Conflict
from sendout.settings import Settings, SettingsError
from sendout.storage.sealing import SEALED_PREFIX, Sealer, SealError, parse_key
from sendout.token_digest import token_digest, token_matches

KEY = bytes(range(32))


def test_token_digest_is_sha256_hex_and_matches_only_its_token() -> None:
    assert token_digest("abc") == hashlib.sha256(b"abc").hexdigest()
    assert token_matches("abc", token_digest("abc"))
    assert not token_matches("abd", token_digest("abc"))
    assert not token_matches("abc", "abc"), "a stored token is a digest, never the token"


def test_sealing_round_trips_with_fresh_nonces_and_binds_the_project() -> None:
    sealer = Sealer(KEY)
    one, two = sealer.seal("whsec_x", "proj_1"), sealer.seal("whsec_x", "proj_1")
    assert one.startswith(SEALED_PREFIX) and one != two
    assert sealer.open(one, "proj_1") == "whsec_x"
    with pytest.raises(SealError):
        sealer.open(one, "proj_2")
    with pytest.raises(SealError, match="set SENDOUT_SECRET_KEY"):
        Sealer().open(one, "proj_1")
    with pytest.raises(SealError, match="does not open"):
        Sealer(bytes(32)).open(one, "proj_1")
    assert Sealer().seal("whsec_x", "proj_1") == "whsec_x"
    assert sealer.open("whsec_plain", "proj_1") == "whsec_plain"
    assert sealer.needs_sealing("whsec_plain") and not sealer.needs_sealing(one)
    assert not Sealer().needs_sealing("whsec_plain")


def test_secret_key_is_base64_of_32_bytes_in_either_alphabet() -> None:
    import base64

    assert parse_key(base64.b64encode(KEY).decode()) == KEY
    assert parse_key(base64.urlsafe_b64encode(KEY).decode().rstrip("=")) == KEY
    for bad in ("", "c2hvcnQ=", "not base64 at all!"):
        with pytest.raises(ValueError):
            parse_key(bad)


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("SENDOUT_WEBHOOK_SECRET", "myVoucherifySecretKey123", "SENDOUT_VOUCHERIFY_SECRET"),
        ("SENDOUT_VOUCHERIFY_SECRET", "short", "SENDOUT_VOUCHERIFY_SECRET"),
        ("SENDOUT_VOUCHERIFY_SECRET", "with space inside", "SENDOUT_VOUCHERIFY_SECRET"),
        ("SENDOUT_SECRET_KEY", "c2hvcnQ=", "SENDOUT_SECRET_KEY"),
    ],
)
def test_bad_secret_settings_are_refused_by_name(name: str, value: str, named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env({name: value})


def test_good_secret_settings_are_taken() -> None:
    settings = Settings.from_env(
        {"SENDOUT_VOUCHERIFY_SECRET": "myVoucherifySecretKey123", "SENDOUT_SECRET_KEY": "A" * 43}
    )
    assert settings.voucherify_secret == "myVoucherifySecretKey123"
    assert settings.sealing_key == bytes(32)


def test_x_voucherify_signature_is_keyed_by_the_voucherify_secret_verbatim() -> None:
    body = b'{"a":1}'
    headers = signature_headers(
        SigningKeys(("whsec_c2VjcmV0c2VjcmV0c2VjcmV0",), "secretKey"), "whs_1", 1, body
    )
    assert headers["x-voucherify-signature"] == (
        "a17d2ac229d1ebbb5f10e839c7985c4818e5986eab297f7e5979196d4d7d3ed2"
    )
    assert headers["x-voucherify-signature"] == hmac.new(b"secretKey", body, "sha256").hexdigest()


def test_voucherify_secret_stages() -> None:
    now = vs.use_now("old-secret")
    staged = vs.stage(now, "new-secret")
    assert staged == vs.VoucherifySecrets("old-secret", "new-secret")
    assert vs.switch(staged, "proj_1") == vs.VoucherifySecrets("new-secret", None)
    with pytest.raises(Conflict) as refused:
        vs.switch(now, "proj_1")
    assert refused.value.key == "no_staged_voucherify_secret"


def test_voucherify_secret_at_start_and_on_rotation() -> None:
    same = vs.VoucherifySecrets("whsec_old", None)
    assert vs.on_start(same, None, "whsec_old", "whsec_new").current == "whsec_new"
    own = vs.VoucherifySecrets("mine12345", "next12345")
    assert vs.on_start(own, None, "whsec_old", "whsec_new") == own
    assert vs.on_start(own, "next12345", "w", "w") == vs.VoucherifySecrets("next12345", None)
    assert vs.on_start(own, "other1234", "w", "w") == vs.VoucherifySecrets("other1234", "next12345")
    assert vs.after_rotation(same, "whsec_old", "whsec_new", 3600) == same
    assert vs.after_rotation(same, "whsec_old", "whsec_new", 0).current == "whsec_new"
    assert vs.after_rotation(own, "whsec_old", "whsec_new", 0) == own
