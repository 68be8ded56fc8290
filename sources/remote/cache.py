"""On-disk cache keyed by request, written atomically, reused across runs.

Layout under :func:`parkscan.aoi.options.cache_dir` (``$PARKSCAN_CACHE`` or ``~/.cache/parkscan``)::

    remote/<namespace>/<key[:2]>/<key>.body      the response body (or a downloaded file)
    remote/<namespace>/<key[:2]>/<key>.json      what it was: URL (redacted), method, time, size, sha256

The key is the SHA-256 of the request (method, URL, parameters/body) with secrets removed, so a
credential never appears in a file name and a cache can be shared between users. Entries are
written with :mod:`parkscan.aoi.atomic`: an interrupted run leaves the old entry or none, never
half a file. A download enters the cache only after its size and checksum were verified.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parkscan.aoi.atomic import atomic_path, write_bytes, write_text
from parkscan.aoi.options import cache_dir

from .credentials import redact_url

__all__ = ["RequestCache", "CacheEntry", "request_key"]

log = logging.getLogger(__name__)


def request_key(method: str, url: str, params: Any = None) -> str:
    """SHA-256 key of a request: method, URL without secrets, canonical JSON of ``params``.

    Examples
    --------
    >>> request_key("GET", "https://x/a?token=1") == request_key("GET", "https://x/a?token=2")
    True
    """
    canon = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str) if params is not None else ""
    text = f"{method.upper()} {redact_url(url)} {canon}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    """A cached body and what it came from."""

    path: Path
    """The cached body file."""
    meta: dict
    """Sidecar metadata (url, method, created, bytes, sha256, ...)."""

    def age(self) -> float:
        """Seconds since the entry was written."""
        return time.time() - float(self.meta.get("created", 0))


class RequestCache:
    """A namespace of the on-disk request cache.

    Parameters
    ----------
    namespace : str
        Sub-folder, e.g. ``"stac"``, ``"files"``, ``"firms"``.
    root : path, optional
        Cache root (default :func:`parkscan.aoi.options.cache_dir`, read at call time).

    Examples
    --------
    >>> import tempfile
    >>> c = RequestCache("demo", root=tempfile.mkdtemp())
    >>> k = request_key("GET", "https://example.com/a")
    >>> _ = c.put(k, b"body", url="https://example.com/a")
    >>> c.get(k).path.read_bytes()
    b'body'
    """

    def __init__(self, namespace: str, *, root: str | os.PathLike | None = None):
        self.namespace = namespace
        self._root = Path(root) if root is not None else None

    @property
    def folder(self) -> Path:
        """The namespace folder."""
        return (self._root or cache_dir()) / "remote" / self.namespace

    def _paths(self, key: str) -> tuple[Path, Path]:
        d = self.folder / key[:2]
        return d / f"{key}.body", d / f"{key}.json"

    def get(self, key: str, *, max_age: float | None = None) -> CacheEntry | None:
        """The entry for ``key`` or None (missing, older than ``max_age`` seconds, or damaged)."""
        body, side = self._paths(key)
        if not (body.is_file() and side.is_file()):
            return None
        try:
            meta = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if meta.get("bytes") is not None and body.stat().st_size != meta["bytes"]:
            log.warning("cache entry %s is damaged (size differs); ignoring it", body)
            return None
        entry = CacheEntry(body, meta)
        if max_age is not None and entry.age() > max_age:
            return None
        return entry

    def put(self, key: str, data: bytes, *, url: str = "", **meta: Any) -> CacheEntry:
        """Store ``data`` atomically under ``key``."""
        body, side = self._paths(key)
        write_bytes(body, data)
        info = {"url": redact_url(url), "created": time.time(), "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(), **meta}
        write_text(side, json.dumps(info, indent=1, default=str))
        return CacheEntry(body, info)

    def put_file(self, key: str, src: str | os.PathLike, *, url: str = "", move: bool = False, **meta: Any) -> CacheEntry:
        """Store a verified file (copied, or moved when ``move``) atomically under ``key``."""
        body, side = self._paths(key)
        src = Path(src)
        with atomic_path(body) as tmp:
            if move:
                os.replace(src, tmp)
            else:
                shutil.copyfile(src, tmp)
        info = {"url": redact_url(url), "created": time.time(), "bytes": body.stat().st_size, **meta}
        write_text(side, json.dumps(info, indent=1, default=str))
        return CacheEntry(body, info)

    def body_path(self, key: str) -> Path:
        """Where the body of ``key`` lives (for callers that download straight into the cache)."""
        return self._paths(key)[0]

    def write_meta(self, key: str, *, url: str = "", **meta: Any) -> CacheEntry:
        """Record the sidecar of a body already moved into :meth:`body_path` (atomically)."""
        body, side = self._paths(key)
        info = {"url": redact_url(url), "created": time.time(), "bytes": body.stat().st_size, **meta}
        write_text(side, json.dumps(info, indent=1, default=str))
        return CacheEntry(body, info)

    def clear(self) -> int:
        """Delete the namespace; returns the number of files removed."""
        n = sum(1 for p in self.folder.rglob("*") if p.is_file()) if self.folder.exists() else 0
        shutil.rmtree(self.folder, ignore_errors=True)
        return n
