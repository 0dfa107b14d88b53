"""The FastAPI dependency and the Flask decorator, through the runnable examples and their
frameworks' test clients: a genuine webhook reaches the route, nothing else does."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kit_support import SECRET, standard_headers

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
WEBHOOK: dict[str, Any] = {
    "id": "whs_0e16e42bc6e0c65b57",
    "project_id": "proj_1",
    "created_at": "2024-03-14T11:47:24.700Z",
    "type": "welcome",
    "data": {
        "event": {"object": "event", "type": "sign_up", "customer": {"id": "cust_1"}},
        "event_schema": {"id": "ms_1", "name": "sign_up"},
        "customer": {"id": "cust_1", "source_id": "4lx-d03", "object": "customer"},
        "referral": None,
        "loyalty": None,
        "voucher": {"code": "WELCOME-1", "object": "voucher"},
    },
    "source": {"id": "distr_1", "object": "distribution", "target_url": "http://x.test/hooks"},
    "event": {"id": "evcus_1", "type": "customer.custom_event", "group_id": "v-1"},
}
BODY = json.dumps(WEBHOOK, separators=(",", ":")).encode()


def _example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"kit_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _signed(body: bytes = BODY, at: datetime | None = None) -> dict[str, str]:
    headers = standard_headers(body, at or datetime.now(UTC))
    return {**headers, "content-type": "application/json"}


def _voucherify(body: bytes) -> dict[str, str]:
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"x-voucherify-signature": signature, "content-type": "application/json"}


class _Post:
    """One POST to ``/hooks`` of an example app: status and JSON answer."""

    def __init__(self, status: int, payload: Any) -> None:
        self.status, self.payload = status, payload


def _fastapi_post(body: bytes, headers: dict[str, str]) -> _Post:
    with TestClient(_example("fastapi_app").app) as client:
        response = client.post("/hooks", content=body, headers=headers)
        return _Post(response.status_code, response.json())


def _flask_post(body: bytes, headers: dict[str, str]) -> _Post:
    client = _example("flask_app").app.test_client()
    response = client.post("/hooks", data=body, headers=headers)
    return _Post(response.status_code, response.get_json(silent=True))


POSTS = {"fastapi": _fastapi_post, "flask": _flask_post}


@pytest.fixture(params=sorted(POSTS))
def post(request: pytest.FixtureRequest) -> Any:
    return POSTS[str(request.param)]


def test_a_genuine_webhook_reaches_the_route(post: Any, capsys: pytest.CaptureFixture[str]) -> None:
    answer = post(BODY, _signed())
    assert (answer.status, answer.payload) == (200, {"received": WEBHOOK["id"]})
    printed = capsys.readouterr().out
    assert "whs_0e16e42bc6e0c65b57 welcome: sign_up for 4lx-d03" in printed
    assert "code WELCOME-1" in printed


def test_a_tampered_body_is_401_and_never_reaches_the_route(
    post: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = post(BODY.replace(b"4lx-d03", b"someone"), _signed())
    assert answer.status == 401
    assert capsys.readouterr().out == ""


def test_missing_signature_or_stale_timestamp_is_401(post: Any) -> None:
    assert post(BODY, {"content-type": "application/json"}).status == 401
    stale = datetime.now(UTC) - timedelta(minutes=10)
    assert post(BODY, _signed(at=stale)).status == 401


def test_a_voucherify_signature_alone_does_not_pass_a_whsec_route(post: Any) -> None:
    assert post(BODY, _voucherify(BODY)).status == 401


def test_a_genuine_body_that_is_not_a_webhook_is_400(post: Any) -> None:
    body = b'{"hello":"world"}'
    assert post(body, _signed(body)).status == 400
