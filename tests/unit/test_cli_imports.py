"""The command line starts light: loading it (every command registered) imports neither the
web framework nor the HTTP client; only ``serve``, ``worker`` and ``events send`` need them, and
import them when they run. Each ``sendout`` call of an operator or a script saves that time."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("fastapi", "aiohttp")


def test_loading_the_command_line_imports_no_web_framework_or_http_client() -> None:
    probe = f"import sys, sendout.cli; print(*[m for m in {HEAVY!r} if m in sys.modules])"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.split() == [], loaded.stdout
