"""The delivery worker as ``sendout serve``'s child process, so that ingest and delivery each
have a core (and a GIL) of their own.

Two pipes join them. The *wake* pipe carries one byte whenever the API commits deliveries:
``0`` for an event's new deliveries, ``1`` when retries may be due too (a resend, replay or
resume); the child's event loop reads it and wakes the worker at once: no polling. Its end of
file means the parent is gone (exited or killed): the child then finishes the attempts in
flight and exits, so a worker never outlives its API. The *report* pipe carries
the child's attempt metrics back, one JSON line per flush, which the parent adds to its own
``/metrics``, so one scrape still sees everything.

The parent restarts a child that dies (after 1 s, doubling up to 30 s while it keeps dying
young) and stops it with its own shutdown: end of file, then ``SIGTERM``, then ``SIGKILL`` if
it has not finished within the grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable

import orjson
import structlog

from sendout import metrics
from sendout.storage.base import Wake

__all__ = ["ChildEnds", "WorkerProcess"]

log = structlog.get_logger(__name__)

_REPORT_EVERY = 0.25  # seconds between the child's metric reports
_RESTART_FIRST, _RESTART_MOST = 1.0, 30.0
_HEALTHY_AFTER = 60.0  # a child that ran this long starts the backoff over
_FIRST, _RETRIES = b"\0", b"\1"  # what a wake-up says may be due: first attempts, retries too


class WorkerProcess:
    """The parent's handle on the child: start it, wake it, keep it running, stop it."""

    def __init__(
        self, database_url: str, *, log_format: str = "console", grace_seconds: float = 30.0
    ) -> None:
        self._database_url = database_url
        self._log_format = log_format
        self._grace = grace_seconds
        self._wake_w: int | None = None
        self._retries_owed = False  # a wake-up for retries did not fit in the full pipe
        self._report_r: int | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False
        self._report_buffer = b""

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def start(self) -> None:
        await self._spawn()
        self._supervisor = asyncio.create_task(self._supervise())

    def wake(self, *, retries: bool = True) -> None:
        """Tell the child deliveries may be due, retries too or not (never blocks: a full pipe
        is a wake-up already pending; one for retries is then owed to the next)."""
        if self._wake_w is None:
            return
        owed = retries or self._retries_owed
        try:
            os.write(self._wake_w, _RETRIES if owed else _FIRST)
            self._retries_owed = False
        except BlockingIOError:
            self._retries_owed = owed  # said with the next wake-up that fits
        except BrokenPipeError:
            pass

    async def stop(self) -> None:
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        await self._end_child()

    async def _spawn(self) -> None:
        wake_r, self._wake_w = os.pipe()
        self._report_r, report_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "sendout",
            "worker",
            "--database-url",
            self._database_url,
            "--log-format",
            self._log_format,
            "--wake-fd",
            str(wake_r),
            "--report-fd",
            str(report_w),
            pass_fds=(wake_r, report_w),
        )
        os.close(wake_r)
        os.close(report_w)
        asyncio.get_running_loop().add_reader(self._report_r, self._read_report)
        log.info("worker.process_started", pid=self._process.pid)

    async def _supervise(self) -> None:
        backoff = _RESTART_FIRST
        while True:
            started = time.monotonic()
            assert self._process is not None
            code = await self._process.wait()
            self._close_pipes()
            if time.monotonic() - started >= _HEALTHY_AFTER:
                backoff = _RESTART_FIRST
            log.error("worker.process_exited", code=code, restart_in_seconds=backoff)
            await asyncio.sleep(backoff)
            backoff = min(_RESTART_MOST, backoff * 2)
            await self._spawn()

    async def _end_child(self) -> None:
        process = self._process
        self._close_wake()  # end of file: the child drains and exits
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), self._grace)
            except TimeoutError:
                log.error("worker.process_killed", pid=process.pid)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        self._close_pipes()

    def _read_report(self) -> None:
        assert self._report_r is not None
        try:
            chunk = os.read(self._report_r, 65536)
        except BlockingIOError:
            return
        if not chunk:
            asyncio.get_running_loop().remove_reader(self._report_r)
            return
        self._report_buffer += chunk
        *lines, self._report_buffer = self._report_buffer.split(b"\n")
        for line in lines:
            for distribution_id, result, seconds in orjson.loads(line):
                metrics.record_attempt(distribution_id, result, seconds)

    def _close_wake(self) -> None:
        if self._wake_w is not None:
            os.close(self._wake_w)
            self._wake_w = None

    def _close_pipes(self) -> None:
        self._close_wake()
        if self._report_r is not None:
            with contextlib.suppress(ValueError, RuntimeError):
                asyncio.get_running_loop().remove_reader(self._report_r)
            os.close(self._report_r)
            self._report_r = None
        self._report_buffer = b""


class ChildEnds:
    """The child's ends of the pipes: wake-ups in, metric reports out."""

    def __init__(self, wake_fd: int, report_fd: int) -> None:
        self._wake_fd = wake_fd
        self._report_fd = report_fd
        self._pending: list[tuple[str, str, float]] = []

    def listen(self, wake: Wake, parent_gone: Callable[[], None]) -> None:
        """Call ``wake`` for the wake-ups read at once, ``parent_gone`` at end of file."""
        os.set_blocking(self._wake_fd, False)
        loop = asyncio.get_running_loop()

        def readable() -> None:
            try:
                data = os.read(self._wake_fd, 4096)
            except BlockingIOError:
                return
            if data:
                wake(retries=_RETRIES in data)
                return
            loop.remove_reader(self._wake_fd)
            parent_gone()

        loop.add_reader(self._wake_fd, readable)

    def observe(self, distribution_id: str, result: str, seconds: float) -> None:
        """Record one attempt (it reaches the parent with the next report)."""
        self._pending.append((distribution_id, result, round(seconds, 6)))

    async def report(self, stop: asyncio.Event) -> None:
        """Send what was observed, every quarter second and once more at the end."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), _REPORT_EVERY)
            self._send()

    def _send(self) -> None:
        if not self._pending:
            return
        line = orjson.dumps(self._pending) + b"\n"
        self._pending = []
        with contextlib.suppress(BrokenPipeError):
            os.write(self._report_fd, line)  # blocking: a line is far below the pipe's size
