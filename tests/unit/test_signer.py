from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from sendout.delivery.signer import (
    SigningKeys,
    new_secret,
    signature_headers,
    standard_signature,
    voucherify_signature,
)


def test_voucherify_published_vectors() -> None:
    # Vectors from Voucherify's docs (key "secretKey"), re-computed in the spec digest §1.4.
    assert (
        voucherify_signature("secretKey", b'{"a":1}')
        == "a17d2ac229d1ebbb5f10e839c7985c4818e5986eab297f7e5979196d4d7d3ed2"
    )
    assert (
        voucherify_signature("secretKey", b'{"a\\"b":1}')
        == "f7cf97814a03146abedb9793f56e1dec34f618f82d10395310d053f749483ffb"
    )
    assert (
        voucherify_signature("secretKey", b"  message  ")
        == "53ff92957e1427ce23ad5bda9d0c5f2f4ff384d0806b83eeacb510c842d3a358"
    )


def test_standard_webhooks_library_accepts_our_signature() -> None:
    secret = new_secret(bytes(range(32)))
    body = '{"id":"whs_1","data":{"name":"Zoë"}}'.encode()
    headers = signature_headers(SigningKeys((secret,), secret), "whs_1", 1_700_000_000, body)
    wh = Webhook(secret)
    moment = datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert wh.sign("whs_1", moment, body.decode()) == headers["webhook-signature"]
    assert headers["webhook-id"] == "whs_1" and headers["webhook-timestamp"] == "1700000000"
    now = int(time.time())
    keys = SigningKeys((secret,), "myVoucherifySecretKey123")
    assert wh.verify(body, signature_headers(keys, "whs_2", now, body)) == {
        "id": "whs_1",
        "data": {"name": "Zoë"},
    }


def test_secret_format() -> None:
    secret = new_secret(b"k" * 32)
    assert secret.startswith("whsec_")
    assert base64.b64decode(secret.removeprefix("whsec_")) == b"k" * 32
    assert standard_signature(secret, "a", 1, b"x") != standard_signature(secret, "a", 2, b"x")
