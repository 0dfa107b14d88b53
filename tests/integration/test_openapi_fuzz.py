"""Schemathesis against a real server of each backend: every operation of its /openapi.json is
fuzzed for a bounded time with every check but one, and the run fails on a 5xx or on an answer
that breaks the document (a body off its schema, an undocumented status or media type, a 405
without ``Allow``, input the document refuses taken, keys ignored)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.server import APP_KEYS, MANAGEMENT_KEYS, ServerProcess

# Per backend: about 40 s in all, the server's start included (CI must stay under 15 minutes).
MAX_SECONDS = 25
MAX_EXAMPLES = 10
# The stream never ends on a distribution that exists, and a fuzzer's request would wait on it.
EXCLUDED_PATHS = r"/stream$"
SCHEMATHESIS = Path(sys.executable).parent / "st"
TESTS = Path(__file__).parent.parent
HOOKS = "support.fuzz_hooks"
# Schema-valid input may still be refused with a 400 for what is stored: a campaign of another
# type, a trigger event with no schema yet, an integer written 2.0 (Voucherify's refusals too);
# no document can say so, so that check would fail on the server being right.
EXCLUDED_CHECKS = "positive_data_acceptance"


def schemathesis_run(server: ServerProcess, workdir: Path) -> subprocess.CompletedProcess[str]:
    headers = [f"-H{name}: {value}" for name, value in {**APP_KEYS, **MANAGEMENT_KEYS}.items()]
    command = [
        str(SCHEMATHESIS),
        "--no-color",
        "run",
        f"{server.base_url}/openapi.json",
        "--checks=all",
        f"--exclude-checks={EXCLUDED_CHECKS}",
        f"--max-time={MAX_SECONDS}",
        f"--max-examples={MAX_EXAMPLES}",
        f"--exclude-path-regex={EXCLUDED_PATHS}",
        # The server refuses NUL in any text, everywhere, before any schema (docs/api.md).
        "--generation-allow-x00=false",
        "--generation-database=none",
        "--request-timeout=30",
        *headers,
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": HOOKS, "PYTHONPATH": str(TESTS)}
    return subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=MAX_SECONDS + 120
    )


def test_the_server_answers_as_its_document_says(database_url: str, tmp_path: Path) -> None:
    # No worker: fuzzed distributions must not send webhooks to the URLs they were given.
    server = ServerProcess(tmp_path / "server", database_url=database_url).start("--no-worker")
    try:
        ran = schemathesis_run(server, tmp_path)
    finally:
        server.stop()
    report = ran.stdout + ran.stderr
    assert ran.returncode == 0, report[-30000:]
    assert "Traceback" not in server.log_text(), server.log_text()[-10000:]
