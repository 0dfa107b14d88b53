"""The ``sendout`` command line. Every option has a ``SENDOUT_*`` twin.

``serve``, ``worker`` run sendout; ``migrate``, ``credentials``, ``import-codes`` look after a
store; ``status`` and ``deliveries`` show an operator what is happening; ``listen`` and
``events send`` talk to a running server.
"""

from __future__ import annotations

from sendout.cli import admin, deliveries, remote, serve, status
from sendout.cli.app import app

__all__ = ["app", "main"]

_COMMANDS = (admin, deliveries, remote, serve, status)  # each registers its commands on import


def main() -> None:
    app(prog_name="sendout")
