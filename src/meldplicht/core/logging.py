"""Structured JSON logs with the request id, and a processor that keeps personal data out.

Every log line is one JSON object on stdout: our own structlog events and the standard-library
records of uvicorn, SQLAlchemy and friends alike. Before rendering, `redact_personal_data`
drops known personal-data keys, masks anything shaped like a BSN, masks Cyrillic text (the
only Cyrillic the service handles is workers' names in the original script) and strips the
bound parameters SQLAlchemy and pydantic put into exception messages (DECISIONS.md §8).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import IO, Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from meldplicht.core.config import Settings
from meldplicht.core.context import request_id_var

# Keys whose values are personal data wherever they appear in an event (nested too).
PII_KEYS = frozenset(
    {
        "bsn",
        "worker_bsn",
        "bsn_encrypted",
        "name",
        "given_names",
        "given_names_original",
        "surname",
        "surname_original",
        "full_name",
        "worker_name",
        "birth_date",
        "date_of_birth",
        "document_number",
        "document_number_encrypted",
        "v_number",
        "signatory_name",
        "password",
        "email",
        "phone",
        "address",
        "street",
        "house_number",
        "housing_address",
        "iban",
        "token",
        "authorization",
        "cookie",
        "client_addr",
    }
)
BSN_MASK = "*********"
CYRILLIC_MASK = "[cyrillic]"

# Nine digits on their own (not part of a longer number), optionally written 1234.56.789.
_NINE_DIGITS = re.compile(r"(?<![0-9])(?:[0-9]{9}|[0-9]{4}[ .][0-9]{2}[ .][0-9]{3})(?![0-9])")
_CYRILLIC = re.compile(r"[\u0400-\u052f\u2de0-\u2dff\ua640-\ua69f]+")
# SQLAlchemy: "[parameters: (...)]"; pydantic: "input_value='...', input_type=str".
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\n|$)", re.DOTALL)
_PYDANTIC_INPUT = re.compile(r"input_value=.*?, input_type=", re.DOTALL)

ACCESS_LOGGER = "meldplicht.access"
_HANDLER_NAME = "meldplicht-json"


def _passes_11_test(digits: str) -> bool:
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0


def _mask_match(match: re.Match[str]) -> str:
    text = match.string
    before = text[match.start() - 1] if match.start() > 0 else " "
    after = text[match.end()] if match.end() < len(text) else " "
    digits = re.sub(r"[ .]", "", match.group())
    # Inside a hex id (a uuid4 request id has nine digits in a row about one time in twenty)
    # mask only what could be a real BSN; standing alone, mask every nine-digit number.
    if (before.isalnum() or after.isalnum()) and not _passes_11_test(digits):
        return match.group()
    return BSN_MASK


def scrub_text(text: str) -> str:
    """The text with BSN-shaped numbers, Cyrillic and bound query parameters masked."""
    text = _SQL_PARAMETERS.sub("[parameters: removed]", text)
    text = _PYDANTIC_INPUT.sub("input_value=[removed], input_type=", text)
    text = _NINE_DIGITS.sub(_mask_match, text)
    return _CYRILLIC.sub(CYRILLIC_MASK, text)


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 8:
        return "[nested too deep]"
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {k: _scrub(v, depth + 1) for k, v in value.items() if str(k).lower() not in PII_KEYS}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v, depth + 1) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        # A BSN passed as an int is still a BSN.
        return BSN_MASK if 100_000_000 <= abs(value) <= 999_999_999 else value
    return scrub_text(str(value))


def redact_personal_data(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: drop personal-data keys and mask BSNs and names everywhere else."""
    out: EventDict = {}
    for key, value in event_dict.items():
        if key.lower() in PII_KEYS:
            continue
        out[key] = value if key.startswith("_") else _scrub(value)
    return out


def add_request_id(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    rid = request_id_var.get()
    if rid is not None and "request_id" not in event_dict:
        event_dict["request_id"] = rid
    return event_dict


class _StdoutHandler(logging.Handler):
    """Writes to `stream`, or to whatever sys.stdout is at the moment (pytest swaps it)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__()
        self._stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = self._stream if self._stream is not None else sys.stdout
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


def _pre_chain(settings: Settings) -> list[Processor]:
    environment = str(settings.environment)

    def add_environment(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("env", environment)
        return event_dict

    return [
        structlog.contextvars.merge_contextvars,
        add_environment,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        add_request_id,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def configure_logging(settings: Settings, *, stream: IO[str] | None = None) -> None:
    """One JSON line per event on stdout (or `stream`), for structlog and stdlib loggers alike.

    Safe to call again (every create_app does): it replaces only the handler it installed.
    """
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_pre_chain(settings),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_pre_chain(settings),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_personal_data,
            structlog.processors.JSONRenderer(ensure_ascii=False, default=str),
        ],
    )
    handler = _StdoutHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # uvicorn's own handlers print plain text; send its records through ours instead. Its
    # access log carries the client address and the query string (?worker_bsn=...), so it
    # is switched off: ACCESS_LOGGER writes the access line (route, status, duration).
    for name in ("uvicorn", "uvicorn.error"):
        uv = logging.getLogger(name)
        uv.handlers.clear()
        uv.propagate = True
        # An in-process uvicorn (tests, benchmarks) may have lowered or raised these.
        uv.setLevel(logging.INFO)
        uv.disabled = False
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True
    # httpx logs every request URL at INFO; outbound calls are counted in metrics instead.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def get_logger(name: str = "meldplicht") -> Any:
    """A structlog logger; keyword arguments become JSON fields (after redaction)."""
    return structlog.stdlib.get_logger(name)
