"""``sendout serve`` runs delivery in a child process by default: woken through a pipe (not by
polling: the poll interval here is a minute), restarted when it dies, gone when its parent is,
its attempts counted in the parent's ``/metrics``; ``--worker-mode inline`` keeps one process.
On both backends, each with a server of its own."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from conftest import unique
from support.receiver import Receiver
from support.server import APP_KEYS, ServerProcess, distribution_to, track_one

NO_POLLING = {"SENDOUT_POLL_INTERVAL": "60"}


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def started(tmp_path: Path, database_url: str, *args: str) -> ServerProcess:
    return ServerProcess(tmp_path, env_overrides=NO_POLLING, database_url=database_url).start(*args)


def test_the_child_is_woken_at_once_and_its_attempts_are_the_parents_metrics(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    server = started(tmp_path, database_url)
    try:
        assert server.process is not None
        [child] = children(server.process.pid)
        path = "/" + unique("woken")
        name, distribution = distribution_to(server, receiver.url(path))
        began = time.monotonic()
        for _ in range(3):
            track_one(server, name)
        receiver.wait_for(path, 3, timeout=10)
        assert time.monotonic() - began < 10  # a poll would have waited a minute

        def counted() -> bool:
            text = httpx.get(server.base_url + "/metrics").text
            labels = f'distribution="{distribution}",result="delivered"'
            return f"sendout_delivery_attempts_total{{{labels}}} 3.0" in text

        wait_until(counted)
    finally:
        assert server.stop() in (0, -signal.SIGTERM)
    wait_until(lambda: not alive(child))
    assert "Traceback" not in server.log_text()


def test_a_resend_wakes_the_childs_retry_lane_at_once(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    """The child claims its retry lane only when a wake-up says retries may be due: an event's
    does not, a resend's does. Without that, the resend would wait for the poll (a minute)."""
    server = started(tmp_path, database_url)
    try:
        path = "/" + unique("resent")
        track_one(server, distribution_to(server, receiver.url(path))[0])
        [first] = receiver.wait_for(path, 1, timeout=10)
        delivery_id = first.headers["webhook-id"]
        delivery = f"{server.base_url}/v1/deliveries/{delivery_id}"
        # Recorded first: the resend then makes a delivery with one attempt due, a retry.
        wait_until(lambda: httpx.get(delivery, headers=APP_KEYS).json()["status"] == "delivered")
        assert httpx.post(f"{delivery}/resend", headers=APP_KEYS).status_code == 200
        [_, second] = receiver.wait_for(path, 2, timeout=10)
        assert second.headers["webhook-id"] == delivery_id
    finally:
        server.stop()


def test_a_child_that_dies_is_restarted_and_one_whose_parent_dies_exits(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    server = started(tmp_path, database_url)
    process = server.process
    assert process is not None
    [first] = children(process.pid)
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: [c for c in children(process.pid) if c != first] != [])
    [second] = children(process.pid)
    path = "/" + unique("restarted")
    track_one(server, distribution_to(server, receiver.url(path))[0])
    receiver.wait_for(path, 1, timeout=10)
    assert "worker.process_exited" in server.log_text()
    process.kill()
    process.wait()
    wait_until(lambda: not alive(second))


def test_inline_mode_delivers_from_the_one_process(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    server = started(tmp_path, database_url, "--worker-mode", "inline")
    try:
        assert server.process is not None and children(server.process.pid) == []
        path = "/" + unique("inline")
        track_one(server, distribution_to(server, receiver.url(path))[0])
        receiver.wait_for(path, 1, timeout=10)
    finally:
        server.stop()
