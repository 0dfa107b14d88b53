"""Child processes for the benchmarks: spawn, read one answer over a pipe, always clean up."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from typing import Any

__all__ = ["Child", "new_loop_runner", "run_child"]

_SPAWN = multiprocessing.get_context("spawn")


def new_loop_runner() -> asyncio.Runner:
    """An asyncio runner on uvloop when it is installed (sendout itself runs on it)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


class Child:
    """``target(conn, *args)`` in a spawned, daemonic process; it answers over ``conn``."""

    def __init__(self, name: str, target: Callable[..., None], *args: Any) -> None:
        self.name = name
        reader, writer = _SPAWN.Pipe(duplex=False)
        self._conn = reader
        self.process = _SPAWN.Process(target=target, args=(writer, *args), name=name, daemon=True)
        self.process.start()
        writer.close()

    def receive(self, timeout: float) -> Any:
        """The next object the child sends; raise if it dies or stays silent too long."""
        if not self._conn.poll(timeout):
            raise TimeoutError(f"{self.name}: no answer within {timeout:g} s")
        try:
            return self._conn.recv()
        except EOFError:
            self.process.join(5)
            raise RuntimeError(f"{self.name} exited (code {self.process.exitcode})") from None

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; idempotent."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(grace)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(grace)
        self._conn.close()


def run_child(name: str, target: Callable[..., None], args: tuple[Any, ...], timeout: float) -> Any:
    """Start a child, wait for its one answer, and make sure it is gone afterwards."""
    child = Child(name, target, *args)
    try:
        status, value = child.receive(timeout)
        child.process.join(10)
    finally:
        child.stop()
    if status != "ok":
        raise RuntimeError(f"{name} failed:\n{value}")
    return value
