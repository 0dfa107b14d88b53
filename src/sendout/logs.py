"""structlog set-up: readable lines on a terminal, JSON lines for machines; the standard library's
loggers (uvicorn's among them) written through the same renderer, so a log is one format."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

__all__ = ["configure_logging", "stdlib_log_config"]


def _renderer(fmt: str) -> structlog.types.Processor:
    if fmt == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())


def _stamps() -> list[structlog.types.Processor]:
    return [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def configure_logging(level: str, fmt: str) -> None:
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *_stamps(),
            structlog.processors.format_exc_info,
            _renderer(fmt),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def stdlib_log_config(level: str, fmt: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` (what uvicorn's ``log_config`` takes): uvicorn's lines
    and any other library's warnings, rendered as sendout's own, with the logger's name."""
    formatter = {
        "()": structlog.stdlib.ProcessorFormatter,
        "foreign_pre_chain": [structlog.stdlib.add_logger_name, *_stamps()],
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _renderer(fmt),
        ],
    }
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "sendout",
        "stream": "ext://sys.stderr",
    }
    uvicorn = {"handlers": ["stderr"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"sendout": formatter},
        "handlers": {"stderr": handler},
        "loggers": {"uvicorn": uvicorn, "uvicorn.error": {"level": level.upper()}},
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }
