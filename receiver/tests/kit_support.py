"""What the receiver kit's tests share: the CI rule for prerequisites, the shared spec, signing.

The CI rule is the main suite's (``tests/support/ci.py``), written again here: these tests run
in a virtualenv without the server or its tests.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

IN_CI = os.environ.get("CI", "").lower() == "true"
SHARED_SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec"
SHARED_EXAMPLES = SHARED_SPEC / "examples"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"


def need(condition: bool, reason: str) -> None:
    """Skip with ``reason`` on a laptop; in CI a missing prerequisite is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def example_files() -> list[Path]:
    """Every example in ``../shared/spec/examples/`` (empty when the folder is not there)."""
    return sorted(SHARED_EXAMPLES.glob("*.json")) if SHARED_EXAMPLES.is_dir() else []


def load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def standard_signature(secret: str, msg_id: str, at: datetime, body: bytes) -> str:
    """``v1,<base64>`` as the ``standardwebhooks`` library signs it."""
    return str(Webhook(secret).sign(msg_id, at, body.decode()))


def standard_headers(
    body: bytes, at: datetime, *secrets: str, msg_id: str = "whs_0e16e42bc6e0c65b57"
) -> dict[str, str]:
    """The three Standard Webhooks headers, one signature per secret (as in a rotation)."""
    signatures = " ".join(standard_signature(s, msg_id, at, body) for s in secrets or (SECRET,))
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }
