"""Secrets never reach a log line, tracebacks of chained exceptions included (the CLI handler redacts)."""
from __future__ import annotations

import io
import logging

from parkscan.sources.remote.credentials import RedactingFilter, register_secret

KEY = "FIRMSKEY-5c1e9d"


def _log_chained_error(handler: logging.Handler) -> str:
    log = logging.getLogger("parkscan.test_redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        try:
            raise ConnectionError(f"Max retries exceeded with url: /api/area/csv/{KEY}/VIIRS_SNPP_NRT/1")
        except ConnectionError as err:
            raise RuntimeError("firms: could not connect") from err
    except RuntimeError:
        log.error("error details for %s", f"https://x/{KEY}", exc_info=True)
    finally:
        log.removeHandler(handler)
    return handler.stream.getvalue()


def test_message_and_traceback_are_redacted():
    register_secret(KEY)
    h = logging.StreamHandler(io.StringIO())
    h.addFilter(RedactingFilter())
    text = _log_chained_error(h)
    assert "could not connect" in text and "/api/area/csv/***/" in text
    assert KEY not in text


def test_cli_log_handler_redacts():
    from parkscan.diagnostics.cli import _configure_logging

    root = logging.getLogger("parkscan")
    saved = (list(root.handlers), root.level, root.propagate)
    try:
        _configure_logging(0)
        assert any(isinstance(f, RedactingFilter) for f in root.handlers[0].filters)
    finally:
        root.handlers[:], root.level, root.propagate = saved[0], saved[1], saved[2]
        logging.captureWarnings(False)
