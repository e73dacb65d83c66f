"""Keeps secret values out of every text that leaves the process: errors, CLI output, alerts and log records.

Whoever sees a secret registers it (the settings, for every `SecretStr` they load; the Notion client, for the token
it is handed), and every place that turns an exception or message into text calls `scrub`. Matching the exact
value is not enough: libraries quote what they reject, e.g. httpx/h11 for a token read with its trailing newline:
``LocalProtocolError: Illegal header value b'Bearer secret_...\\n'``. So each secret is scrubbed in every form it
is quoted in: as is, stripped, ``repr()``'d, as ``bytes``, JSON- and URL-encoded, with ``\\r``/``\\n`` escaped,
and each of those quoted once more (an error message quoted inside another one). ``Bearer <credential>`` is
masked even when the credential was never registered.

Log records are scrubbed by `ScrubSecretsFilter`, which `install_log_scrubbing` applies to every record the
process creates (the command line and the code location call it at start-up, via `prepare_process`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus

from pydantic import SecretStr

MASK = "***"
#: Shorter values are not registered: masking them would mangle ordinary words and numbers in every message,
#: and no credential we handle is that short (Notion tokens have 50 characters).
MIN_SECRET_CHARS = 8

# A bearer credential in any text, registered or not: the scheme followed by a token-like word holding a digit or
# an underscore (so prose such as "Bearer authentication" stays readable).
_BEARER = re.compile(r"\b(Bearer\s+)(?=[A-Za-z0-9._~+/=-]*[0-9_])[A-Za-z0-9._~+/=-]{8,}")


def _utf8(value: str) -> bytes:
    return value.encode("utf-8", "backslashreplace")  # lone surrogates must not make scrubbing itself fail


#: The ways a library turns a string into text; `forms` applies them twice.
_ENCODINGS: tuple[Callable[[str], str], ...] = (
    lambda v: repr(v)[1:-1],  # str in a repr: 'secret\n' -> secret\n (escaped)
    lambda v: ascii(v)[1:-1],
    lambda v: repr(_utf8(v))[2:-1],  # bytes in a repr: b'Bearer secret\r\n' (h11's illegal header value)
    lambda v: json.dumps(v)[1:-1],
    lambda v: json.dumps(v, ensure_ascii=False)[1:-1],
    lambda v: quote(_utf8(v), safe=""),  # URL-encoded: query strings, form bodies, URLs in errors
    lambda v: quote(_utf8(v)),
    lambda v: quote_plus(_utf8(v)),
    lambda v: v.replace("\r", "\\r").replace("\n", "\\n"),  # line ends escaped by a log formatter
)


def forms(secret: str) -> set[str]:
    """Every text form of `secret` that `scrub` masks (forms shorter than MIN_SECRET_CHARS excluded)."""
    found = {value for value in (secret, secret.strip()) if len(value) >= MIN_SECRET_CHARS}
    for _ in range(2):  # quoted, then quoted again (a repr inside an error message inside a JSON line)
        found |= {encode(value) for value in found for encode in _ENCODINGS}
    return found


class SecretRegistry:
    """Known secret values and the text forms to mask; thread-safe (sensors and steps run in threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._forms: tuple[str, ...] = ()  # longest first: a form inside a longer one goes with it

    def register(self, value: str | SecretStr | None) -> None:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not value or value in self._secrets:
            return
        with self._lock:
            self._secrets.add(value)
            every = set(self._forms) | forms(value)
            self._forms = tuple(sorted(every, key=len, reverse=True))

    def scrub(self, text: str) -> str:
        """`text` with every form of every registered secret, and any bearer credential, replaced by `MASK`."""
        known = self._forms
        while True:
            # Repeat until nothing is found: a mask can join the text around it into a new occurrence
            # ("x" + MASK + "yyyy" where the secret is "x***yyyy"); each pass shortens the text, so it ends.
            before = text
            for form in known:
                if form in text:
                    text = text.replace(form, MASK)
            if "Bearer" in text:
                text = _BEARER.sub(rf"\1{MASK}", text)
            if text == before:
                return text


#: The process's registry: what settings and clients register, what `scrub` masks.
REGISTRY = SecretRegistry()


def register(value: str | SecretStr | None) -> None:
    """Remember a secret value so that `scrub` masks it from now on (empty and None are ignored)."""
    REGISTRY.register(value)


def scrub(text: str) -> str:
    """`text` without any registered secret, in any of its forms (see the module docstring)."""
    return REGISTRY.scrub(text)


class ScrubSecretsFilter(logging.Filter):
    """Scrubs a log record's message, traceback and stack in place; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging reports it when the record is emitted
            return True
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # Formatters print `exc_text` when it is set, so the traceback is rendered once, scrubbed.
            rendered = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            clean = scrub(rendered)
            if clean != rendered:
                record.exc_text = clean
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


_install_lock = threading.Lock()
_install_done = False


def install_log_scrubbing() -> None:
    """Scrub every log record this process creates, from any logger (idempotent).

    A filter on named loggers would miss most records: logger filters see only records logged on that very
    logger (not on its children), and Dagster's per-run log managers (`context.log`, which feed the event log
    and, through the console logger, the compute logs) are loggers outside `logging.getLogger`. The record
    factory is the one point every record passes, so the filter runs there, when the record is made.
    """
    global _install_done
    with _install_lock:
        if _install_done:
            return
        previous = logging.getLogRecordFactory()
        scrubber = ScrubSecretsFilter()

        def scrubbed_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            scrubber.filter(record)
            return record

        logging.setLogRecordFactory(scrubbed_record)
        _install_done = True


__all__ = [
    "MASK",
    "MIN_SECRET_CHARS",
    "REGISTRY",
    "ScrubSecretsFilter",
    "SecretRegistry",
    "forms",
    "install_log_scrubbing",
    "register",
    "scrub",
]
