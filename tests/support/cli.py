"""Running the ``sendout`` command as a user would: a subprocess with only the ``SENDOUT_*``
variables a test gives it."""

from __future__ import annotations

import os
import subprocess
import sys

__all__ = ["sendout"]


def sendout(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SENDOUT_")}
    return subprocess.run(
        [sys.executable, "-m", "sendout", *args],
        env={**base, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
