"""Log lines for ``ohconnect serve`` and ``demo``: JSON objects (production) or readable text, made by
structlog from every standard-library logger, each carrying the request id of the request it
belongs to. Log calls name records by id and never carry names, addresses, dates of birth or
clinical words; the access log names the route template, never the raw path or the client address.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.types import EventDict, Processor, WrappedLogger

from backend.core.http import current_request_id

outbox_logger = logging.getLogger("ohconnect.outbox")


def add_request_id(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    rid = current_request_id()
    if rid is not None:
        event.setdefault("request_id", rid)
    return event


def drop_colour(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    event.pop("color_message", None)  # uvicorn's terminal copy of the message
    return event


def _shared(fmt: Literal["json", "text"]) -> list[Processor]:
    # In JSON, a record's ``extra`` fields (route, status, ...) become keys of the object.
    extras: list[Processor] = [structlog.stdlib.ExtraAdder()] if fmt == "json" else []
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        *extras,
        add_request_id,
        drop_colour,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def formatter(fmt: Literal["json", "text"] = "text") -> structlog.stdlib.ProcessorFormatter:
    """The logging.Formatter of every handler (named by dotted path in ``log_config``)."""
    shared = _shared(fmt)
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(
            colors=False, sort_keys=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    tail: list[Processor] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if fmt == "json":
        # Tracebacks as data, WITHOUT local variables (they would hold whatever a request carried).
        tail += [structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False))]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=[*tail, renderer])


class NoClientAddresses(logging.Filter):
    """Drops uvicorn's WebSocket lines, which name the client's address and the raw path;
    ``ohconnect.access`` logs each socket by route template instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg if isinstance(record.msg, str) else ""
        return not (record.name.startswith("uvicorn") and '"WebSocket %s"' in message)


def log_config(level: str, fmt: Literal["json", "text"]) -> dict[str, Any]:
    """``logging.config.dictConfig`` input for the CLI and uvicorn (also in worker processes):
    everything to stderr through one formatter; uvicorn's own access log is replaced by
    ``ohconnect.access`` (backend.observe.metrics), which leaves out client addresses and raw paths."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": {"()": "backend.observe.logs.formatter", "fmt": fmt}},
        "filters": {"no_client_addresses": {"()": "backend.observe.logs.NoClientAddresses"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "structured",
                "filters": ["no_client_addresses"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            "pgserver": {"level": "WARNING"},
            # The job queue logs every job it starts and ends (several a second): warnings only.
            "procrastinate": {"level": "WARNING"},
        },
    }
