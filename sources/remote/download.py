"""Verified, resumable file downloads for :class:`~.http.HTTPSession` (``HTTPSession.download``).

The body streams into ``.DEST.part`` next to ``dest``; a cut connection or a body shorter than its
``Content-Length`` is resumed with a ``Range`` request; size and checksums are checked before the
file moves to ``dest``, so a partial or corrupt file never stands where the target should be.
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping

import requests

from parkscan.aoi.digest import sha256_file
from parkscan.aoi.errors import SourceError, SourceIOError
from parkscan.aoi.options import OPTIONS

from .credentials import redact_url

if TYPE_CHECKING:  # pragma: no cover
    from .http import HTTPSession

__all__ = ["download", "DownloadResult", "part_path", "file_sha256", "checked_file_name"]

log = logging.getLogger(__name__)
_CHUNK = 1 << 16


def checked_file_name(name: str, *, source: str) -> str:
    """``name`` (a file or folder name a server sent) if it is one plain path component, else an error.

    Product, node and asset names from catalogues become local file names; a name such as
    ``../../.bashrc`` or ``/etc/x`` must not write outside the output folder.

    Raises
    ------
    SourceError
        The name is empty, ``.``/``..``, absolute, or holds a path separator or NUL.

    Examples
    --------
    >>> checked_file_name("S2A_MSIL2A_20240101.SAFE", source="cdse")
    'S2A_MSIL2A_20240101.SAFE'
    """
    text = str(name)
    if text in ("", ".", "..") or any(c in text for c in ("/", "\\", "\0")) or (len(text) > 1 and text[1] == ":"):
        raise SourceError(f"{source}: the server sent an unsafe file name {text[:120]!r} (empty, '..', or a path); "
                          "refusing to write it — check the catalogue URL")
    return text


def part_path(dest: str | os.PathLike) -> Path:
    """Where :meth:`HTTPSession.download` keeps the partial file of ``dest`` (for resume)."""
    dest = Path(dest)
    return dest.with_name(f".{dest.name}.part")


@dataclass(frozen=True)
class DownloadResult:
    """One finished, verified download (what the fetch manifest records)."""

    path: Path
    """Final file."""
    url: str
    """Source URL with credentials and secret query values removed."""
    bytes: int
    """File size in bytes."""
    sha256: str
    """SHA-256 of the file (hex)."""
    md5: str
    """MD5 of the file (hex; DHuS/CDSE checksums are MD5)."""
    transferred: int
    """Bytes actually received over the network in this call (less than ``bytes`` after a resume)."""
    resumed_from: int
    """Offset the download resumed from (0 when it started fresh)."""
    seconds: float
    """Wall time."""


def download(
    session: "HTTPSession",
    url: str,
    dest: str | os.PathLike,
    *,
    sha256: str | None = None,
    md5: str | None = None,
    expected_size: int | None = None,
    resume: bool = True,
    progress: Callable[[int, int | None], None] | None = None,
    headers: Mapping[str, str] | None = None,
) -> DownloadResult:
    """Download ``url`` to ``dest``, verified; resume an earlier partial download.

    The body streams into ``.DEST.part`` next to ``dest``. A cut connection or a body shorter
    than its ``Content-Length`` is resumed with a ``Range`` request (up to
    ``OPTIONS['http_retries']`` times). When the body is complete, its size and checksums are
    checked; only then does the file move to ``dest``. A checksum mismatch deletes the partial
    file (a resume could only repeat the error).

    Parameters
    ----------
    session : HTTPSession
        Session making the requests (retries, timeout, hooks).
    url : str
        File URL.
    dest : path
        Final file path (its folder is created).
    sha256, md5 : str, optional
        Expected checksums (hex, case-insensitive).
    expected_size : int, optional
        Expected size in bytes.
    resume : bool, default True
        Continue from an existing ``.DEST.part``; False starts over.
    progress : callable, optional
        ``progress(bytes_so_far, total_or_None)`` after each chunk.
    headers : mapping, optional
        Extra request headers (e.g. a bearer token).

    Returns
    -------
    DownloadResult

    Raises
    ------
    SourceIOError
        Truncated past the retries, wrong size or wrong checksum.
    SourceAPIError
        The server answered with an error status.
    """
    url = session.url(url)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    safe = redact_url(url, keep_query=False)
    t0 = time.perf_counter()
    if not resume and part.exists():
        part.unlink()
    start = part.stat().st_size if part.exists() else 0
    if expected_size is not None and start > expected_size:
        part.unlink()
        start = 0
    resumed_from = start
    transferred = 0
    retries = int(OPTIONS["http_retries"])
    total: int | None = expected_size
    attempt = 0
    while True:
        offset = part.stat().st_size if part.exists() else 0
        if expected_size is not None and offset == expected_size and offset > 0:
            break  # already complete
        hdrs = dict(headers or {})
        if offset:
            hdrs["Range"] = f"bytes={offset}-"
            hdrs["Accept-Encoding"] = "identity"
        resp = session.request("GET", url, headers=hdrs, stream=True, ok=(416,))
        with resp:
            if resp.status_code == 416:
                # the part already holds the whole file (or the server has a different file)
                size = _content_range_total(resp.headers.get("Content-Range"))
                if size is not None and size == offset:
                    break
                part.unlink(missing_ok=True)
                if attempt >= retries:
                    raise SourceIOError(f"{session.provider}: {safe}: the server refused to resume (HTTP 416)")
                attempt += 1
                continue
            if offset and resp.status_code == 206:
                got_start = _content_range_start(resp.headers.get("Content-Range"))
                if got_start != offset:
                    log.info("%s: %s answered a different range; starting over", session.provider, safe)
                    part.unlink(missing_ok=True)
                    attempt += 1
                    if attempt > retries:
                        raise SourceIOError(f"{session.provider}: {safe}: the server answered a wrong byte range")
                    continue
                mode = "ab"
            else:
                if offset:
                    log.info("%s: %s does not support Range; downloading again from the start", session.provider, safe)
                offset = 0
                mode = "wb"
            length = resp.headers.get("Content-Length")
            encoded = resp.headers.get("Content-Encoding", "identity").lower() not in ("identity", "")
            body_len = int(length) if (length and length.isdigit() and not encoded) else None
            if resp.status_code == 206:
                total = _content_range_total(resp.headers.get("Content-Range")) or total
            elif body_len is not None:
                total = body_len
            received = 0
            cut: Exception | None = None
            with open(part, mode) as fh:
                try:
                    for chunk in _iter_body(resp):
                        fh.write(chunk)
                        received += len(chunk)
                        transferred += len(chunk)
                        if progress is not None:
                            progress(offset + received, total)
                except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ContentDecodingError) as err:
                    cut = err
                fh.flush()
                os.fsync(fh.fileno())
        short = body_len is not None and received < body_len
        if cut is None and not short:
            break
        why = type(cut).__name__ if cut is not None else f"{received} of {body_len} bytes"
        if attempt >= retries:
            raise SourceIOError(
                f"{session.provider}: download of {safe} was cut ({why}) after {attempt + 1} attempt(s); "
                f"{part.stat().st_size} bytes kept in {part} — run again to resume"
            )
        wait = session._backoff(attempt)
        log.info("%s: download of %s cut (%s); resuming in %.2f s", session.provider, safe, why, wait)
        session.sleep(wait)
        attempt += 1
        if not resume:
            part.unlink(missing_ok=True)
    size = part.stat().st_size
    h256, hmd5 = _file_hashes(part)
    problems = []
    if expected_size is not None and size != expected_size:
        problems.append(f"size {size} bytes, expected {expected_size}")
    elif total is not None and size != total:
        problems.append(f"size {size} bytes, the server announced {total}")
    if sha256 and h256 != sha256.lower():
        problems.append(f"sha256 {h256}, expected {sha256.lower()}")
    if md5 and hmd5 != md5.lower():
        problems.append(f"md5 {hmd5}, expected {md5.lower()}")
    if problems:
        part.unlink(missing_ok=True)
        raise SourceIOError(
            f"{session.provider}: download of {safe} is corrupt ({'; '.join(problems)}); the partial file was "
            "deleted — run again, and report it to the provider if it repeats"
        )
    os.replace(part, dest)
    return DownloadResult(
        path=dest, url=redact_url(url), bytes=size, sha256=h256, md5=hmd5, transferred=transferred,
        resumed_from=resumed_from, seconds=time.perf_counter() - t0,
    )


def _iter_body(resp: requests.Response) -> Iterable[bytes]:
    """Body chunks as they arrive; bytes received before a cut are yielded before the error.

    ``iter_content`` reads fixed-size blocks and drops a partial block when the connection is cut;
    ``read1`` returns what is there, so a resume starts exactly where the data stopped.
    """
    import urllib3.exceptions

    raw = resp.raw
    try:
        while True:
            chunk = raw.read1(_CHUNK, decode_content=True)
            if not chunk:
                break
            yield chunk
    except urllib3.exceptions.ProtocolError as err:
        raise requests.exceptions.ChunkedEncodingError(str(err)) from err
    except urllib3.exceptions.ReadTimeoutError as err:
        raise requests.exceptions.ConnectionError(str(err)) from err
    except urllib3.exceptions.DecodeError as err:
        raise requests.exceptions.ContentDecodingError(str(err)) from err


def _content_range_start(value: str | None) -> int | None:
    # "bytes 100-199/1000"
    if not value or not value.startswith("bytes "):
        return None
    try:
        return int(value[6:].split("-", 1)[0])
    except ValueError:
        return None


def _content_range_total(value: str | None) -> int | None:
    if not value or "/" not in value:
        return None
    tail = value.rsplit("/", 1)[1].strip()
    return int(tail) if tail.isdigit() else None


def _file_hashes(path: Path) -> tuple[str, str]:
    h256, hmd5 = hashlib.sha256(), hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h256.update(block)
            hmd5.update(block)
    return h256.hexdigest(), hmd5.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a local file (:func:`parkscan.aoi.digest.sha256_file`)."""
    return sha256_file(path)
