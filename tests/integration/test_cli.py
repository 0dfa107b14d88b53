"""The ``sendout`` command: migrate, credentials, and clear refusals of bad settings."""

from __future__ import annotations

import base64
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from support.cli import sendout
from support.server import ServerProcess, free_port


def test_migrate_is_idempotent(database_url: str) -> None:
    env = {"SENDOUT_DATABASE_URL": database_url}
    first = sendout("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "0001_initial" in first.stdout
    second = sendout("migrate", env=env)
    assert second.returncode == 0 and "up to date" in second.stdout


def test_generated_tokens_are_shown_once_then_only_ids_and_secrets(database_url: str) -> None:
    env = {"SENDOUT_DATABASE_URL": database_url}
    assert sendout("migrate", env=env).returncode == 0
    first = sendout("credentials", env=env)
    second = sendout("credentials", env=env)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    token = _value(first.stdout, "X-App-Token")
    management_token = _value(first.stdout, "X-Management-Token")
    assert len(token) >= 32 and len(management_token) >= 32
    for name in ("X-App-Id", "X-Management-Id", "webhook secret", "Voucherify secret"):
        assert _value(first.stdout, name) == _value(second.stdout, name)
    assert token not in second.stdout and management_token not in second.stdout
    assert "stored as a hash" in _value(second.stdout, "X-App-Token")
    assert "stored as a hash" in _value(second.stdout, "X-Management-Token")


def test_bad_settings_are_refused_with_the_reason(tmp_path: Path) -> None:
    cases = {
        "SENDOUT_RETRY_SCHEDULE": ("soon,later", "SENDOUT_RETRY_SCHEDULE"),
        "SENDOUT_DATABASE_URL": ("mysql://db/x", "SENDOUT_DATABASE_URL"),
        "SENDOUT_WEBHOOK_SECRET": ("myVoucherifySecretKey123", "SENDOUT_VOUCHERIFY_SECRET"),
        "SENDOUT_VOUCHERIFY_SECRET": ("has a space", "SENDOUT_VOUCHERIFY_SECRET"),
        "SENDOUT_SECRET_KEY": ("c2hvcnQ=", "SENDOUT_SECRET_KEY"),
        "SENDOUT_PORT": ("eighty", "SENDOUT_PORT"),
    }
    runs = [
        (command, name, value, mentioned)
        for command in ("credentials", "serve")
        for name, (value, mentioned) in cases.items()
        # serve's --port option: typer's own usage error (exit 2 as well)
        if not (command == "serve" and name == "SENDOUT_PORT")
    ]

    def run(n: int) -> subprocess.CompletedProcess[str]:
        command, name, value, _ = runs[n]
        return sendout(
            command, env={"SENDOUT_DATABASE_URL": f"sqlite:///{tmp_path}/{n}.db", name: value}
        )

    with ThreadPoolExecutor(4) as pool:  # eleven refusals, each a process of its own
        results = list(pool.map(run, range(len(runs))))
    for (command, name, _, mentioned), result in zip(runs, results, strict=True):
        assert result.returncode == 2, (command, name, result.stdout, result.stderr)
        assert mentioned in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_secrets_sealed_with_a_key_need_that_key(database_url: str) -> None:
    """With SENDOUT_SECRET_KEY the secrets are sealed at rest; a start without it, or with
    another key, stops with exit 2 and one line, for serve as for the other commands."""
    key = base64.b64encode(bytes(range(32))).decode()
    sealed = {"SENDOUT_DATABASE_URL": database_url, "SENDOUT_SECRET_KEY": key}
    assert sendout("migrate", env=sealed).returncode == 0
    shown = sendout("credentials", env=sealed)
    assert shown.returncode == 0, shown.stderr
    other_key = base64.b64encode(bytes(32)).decode()
    for env, reason in (
        ({"SENDOUT_DATABASE_URL": database_url}, "set SENDOUT_SECRET_KEY"),
        ({**sealed, "SENDOUT_SECRET_KEY": other_key}, "does not open"),
    ):
        for command in ("credentials", "serve"):
            result = sendout(command, env={**env, "SENDOUT_PORT": str(free_port())})
            assert result.returncode == 2, (command, result.stderr)
            assert reason in result.stderr and "Traceback" not in result.stderr
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    again = sendout("credentials", env=sealed)
    assert _value(again.stdout, "webhook secret") == _value(shown.stdout, "webhook secret")


def test_first_start_generates_keys_that_survive_a_restart(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, env_overrides={})
    env = server.env()
    for key in (
        "SENDOUT_APP_ID",
        "SENDOUT_APP_TOKEN",
        "SENDOUT_MANAGEMENT_ID",
        "SENDOUT_MANAGEMENT_TOKEN",
        "SENDOUT_WEBHOOK_SECRET",
    ):
        env.pop(key)
    server.env = lambda: env  # type: ignore[method-assign]
    server.start()
    try:
        first_start = server.log_text()
    finally:
        server.stop()
    assert first_start.count("SENDOUT_SECRET_KEY is not set") == 1, first_start
    app_id = _value(first_start, "X-App-Id")
    token = _value(first_start, "X-App-Token")  # printed once: only its hash is stored
    server.start()
    try:
        response = httpx.get(
            server.base_url + "/v1/customers", headers={"X-App-Id": app_id, "X-App-Token": token}
        )
        assert response.status_code == 200, response.text
        assert server.log_text().count("X-App-Token") == 1, "keys are printed only when created"
    finally:
        server.stop()


def _value(table: str, name: str) -> str:
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("│|").split("│")]
        if len(cells) == 2 and cells[0] == name:
            return cells[1]
    raise AssertionError(f"{name} not in:\n{table}")
