"""Pulling 走航 data from a monitoring platform over HTTP (a URL returning CSV or JSON).

The request goes through :class:`parkscan.sources.remote.http.HTTPSession` (timeouts, retries with back-off,
``Retry-After``, errors with the URL stripped of secrets). A token is read from an environment variable
(default ``PARKSCAN_MOBILE_TOKEN``) and sent as ``Authorization: Bearer …``; it is registered for redaction
and never logged. The answer is saved as a CSV file that :func:`~parkscan.sources.mobile.read_mobile` reads
like any vendor file.
"""
from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import pandas as pd

from parkscan.aoi.atomic import write_bytes
from parkscan.aoi.errors import SourceError

__all__ = ["fetch_platform", "TOKEN_ENV"]

log = logging.getLogger(__name__)
TOKEN_ENV = "PARKSCAN_MOBILE_TOKEN"


def _records(data: Any) -> list[dict]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in ("data", "records", "rows", "items", "result", "results"):
            v = data.get(key)
            if isinstance(v, list):
                return v
            if isinstance(v, dict):
                inner = _records(v)
                if inner:
                    return inner
    return []


def fetch_platform(url: str, out_dir: str | Path, *, token_env: str = TOKEN_ENV, params: Mapping[str, Any] | None = None,
                   name: str | None = None, session=None) -> Path:
    """Download one platform answer (CSV or JSON records) into ``out_dir`` as CSV and return its path.

    Parameters
    ----------
    url : str
        Platform endpoint (``http(s)://…``).
    out_dir : path
        Where to save the file.
    token_env : str
        Environment variable holding the API token (optional: no header when unset).
    params : mapping, optional
        Query parameters (e.g. ``{"start": "2025-06-10", "vehicle": "A1"}``).
    name : str, optional
        File name (default from the URL path).
    session : HTTPSession, optional
        A session to use (tests pass one with a hook).

    Raises
    ------
    SourceAPIError, SourceIOError
        From the HTTP layer (status, network).
    SourceError
        The answer is neither CSV nor JSON records.
    """
    from parkscan.sources.remote.credentials import register_secret
    from parkscan.sources.remote.http import HTTPSession

    token = os.environ.get(token_env)
    headers = {}
    if token:
        register_secret(token)
        headers["Authorization"] = f"Bearer {token}"
    own = session is None
    s = session or HTTPSession("mobile-platform", headers=headers)
    try:
        resp = s.get(url, params=dict(params or {}), headers=headers or None)
    finally:
        if own:
            s.close()
    ctype = (resp.headers.get("Content-Type") or "").lower()
    body = resp.content
    stem = name or (Path(urlsplit(url).path).stem or "platform")
    out = Path(out_dir) / f"{stem}.csv"
    text_start = body.lstrip()[:1]
    if "json" in ctype or text_start in (b"{", b"["):
        try:
            data = json.loads(body.decode(resp.encoding or "utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise SourceError(f"{url}: the platform answered with invalid JSON ({err})") from err
        recs = _records(data)
        if not recs or not isinstance(recs[0], dict):
            raise SourceError(f"{url}: the JSON answer holds no list of records (looked under data/records/rows/items/result)")
        buf = io.StringIO()
        pd.DataFrame.from_records(recs).to_csv(buf, index=False)
        write_bytes(out, buf.getvalue().encode("utf-8"))
    elif "html" in ctype:
        raise SourceError(f"{url}: the platform answered with an HTML page, not data (login page or wrong URL?)")
    else:
        write_bytes(out, body)
    log.info("platform data saved to %s (%d bytes)", out, out.stat().st_size)
    return out
