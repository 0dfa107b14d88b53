"""The ``sendout`` command: migrate, credentials, and clear refusals of bad settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from support.server import ServerProcess


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


def test_migrate_is_idempotent(database_url: str) -> None:
    env = {"SENDOUT_DATABASE_URL": database_url}
    first = sendout("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "0001_initial" in first.stdout
    second = sendout("migrate", env=env)
    assert second.returncode == 0 and "up to date" in second.stdout


def test_generated_credentials_are_stored_and_shown_again(database_url: str) -> None:
    env = {"SENDOUT_DATABASE_URL": database_url}
    first = sendout("credentials", env=env)
    second = sendout("credentials", env=env)
    assert first.returncode == 0, first.stderr
    assert "whsec_" in first.stderr and "X-App-Token" in first.stderr
    assert first.stderr == second.stderr


def test_bad_settings_are_refused_with_the_reason(tmp_path: Path) -> None:
    cases = {
        "SENDOUT_RETRY_SCHEDULE": ("soon,later", "SENDOUT_RETRY_SCHEDULE"),
        "SENDOUT_DATABASE_URL": ("mysql://db/x", "SENDOUT_DATABASE_URL"),
        "SENDOUT_WEBHOOK_SECRET": ("plain-text", "SENDOUT_WEBHOOK_SECRET"),
        "SENDOUT_PORT": ("eighty", "SENDOUT_PORT"),
    }
    for name, (value, mentioned) in cases.items():
        env = {"SENDOUT_DATABASE_URL": f"sqlite:///{tmp_path}/s.db", name: value}
        result = sendout("credentials", env=env)
        assert result.returncode == 2, (name, result.stdout, result.stderr)
        assert mentioned in result.stderr
        assert "Traceback" not in result.stderr


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
        assert "X-App-Token" in server.log_text()
    finally:
        server.stop()
    shown = sendout("credentials", env={"SENDOUT_DATABASE_URL": env["SENDOUT_DATABASE_URL"]}).stderr
    app_id = _value(shown, "X-App-Id")
    token = _value(shown, "X-App-Token")
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
