"""One HTTP session wrapper per provider (after pystac-client's ``StacApiIO``).

:class:`HTTPSession` owns a :class:`requests.Session` and

* passes a timeout on **every** request (``OPTIONS["http_timeout"]``, read at call time);
* retries with exponential back-off (``OPTIONS["http_backoff"] * 2**attempt``) on connection
  errors, timeouts and HTTP 500/502/503/504, up to ``OPTIONS["http_retries"]`` times;
* honours ``429 Too Many Requests`` with ``Retry-After`` (seconds or an HTTP date);
* turns failures into :class:`~parkscan.aoi.errors.SourceAPIError` (the server answered with an
  error) or :class:`~parkscan.aoi.errors.SourceIOError` (unreachable, truncated, bad checksum),
  with messages that never contain credentials (see :mod:`.credentials`);
* has hooks for tests and callers: ``request_hook(prepared) -> prepared | None`` runs before each
  attempt (add headers, sign, count), ``sleep`` can be replaced to observe back-off;
* downloads files with :meth:`HTTPSession.download`: streamed to ``DEST.part``, verified
  (Content-Length, size, sha256/md5), resumed with ``Range``, then moved into place, so a
  partial file never stands where the target should be.
"""
from __future__ import annotations

import email.utils
import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import requests

from parkscan.aoi.errors import SourceAPIError, SourceIOError
from parkscan.aoi.options import OPTIONS

from .credentials import redact, redact_url

__all__ = ["HTTPSession", "DownloadResult", "RETRY_STATUS", "user_agent", "part_path", "file_sha256"]

log = logging.getLogger(__name__)

#: statuses retried with back-off (429 is handled separately through Retry-After)
RETRY_STATUS = frozenset({500, 502, 503, 504})
_CHUNK = 1 << 16


def user_agent() -> str:
    """``parkscan/<version> python-requests/<version>``."""
    try:
        from importlib.metadata import version

        v = version("parkscan")
    except Exception:  # noqa: BLE001 - metadata lookup can fail many ways; a UA is cosmetic
        v = "0"
    return f"parkscan/{v} python-requests/{requests.__version__}"


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


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _hint_for(resp: requests.Response) -> str:
    status = resp.status_code
    text = ""
    try:
        text = (resp.text or "")[:4000].lower()
    except (UnicodeDecodeError, requests.RequestException):
        pass
    if "maintenance" in text:
        return "The server is down for maintenance; try again later"
    if status == 401:
        return "The credentials were rejected: check the environment variables / ~/.netrc entry for this provider"
    if status == 403:
        return "Access denied: the account may lack the right to this product, or a signed URL expired"
    if status == 404:
        return "Not found: check the URL, collection or product id"
    if status in RETRY_STATUS:
        return "The server kept failing after retries; try again later"
    return ""


class HTTPSession:
    """A provider's HTTP session: timeouts, retries, back-off, Retry-After, redacted errors.

    Parameters
    ----------
    provider : str
        Short name used in messages and logs (``"earth-search"``, ``"cdse"``, ...).
    base_url : str, optional
        Prefix for relative URLs given to :meth:`request`.
    auth : tuple or requests.auth.AuthBase, optional
        Authentication for every request (kept out of ``repr`` and messages).
    headers : mapping, optional
        Extra default headers.
    request_hook : callable, optional
        ``hook(prepared_request) -> PreparedRequest | None`` called before every attempt; may modify
        (sign) the request or return a replacement. Tests use it to count or fault requests.
    session : requests.Session, optional
        Session to wrap (a new one by default).
    max_retry_after : float, default 300
        Longest ``Retry-After`` wait honoured; a longer one raises at once with the wait in the message.

    Examples
    --------
    >>> s = HTTPSession("example", base_url="https://example.com/api")
    >>> s.url("search")
    'https://example.com/api/search'
    """

    def __init__(
        self,
        provider: str,
        *,
        base_url: str | None = None,
        auth: Any = None,
        headers: Mapping[str, str] | None = None,
        request_hook: Callable[[requests.PreparedRequest], requests.PreparedRequest | None] | None = None,
        session: requests.Session | None = None,
        max_retry_after: float = 300.0,
    ):
        self.provider = provider
        self.base_url = base_url.rstrip("/") if base_url else None
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", user_agent())
        self.session.headers["User-Agent"] = user_agent()
        if headers:
            self.session.headers.update(headers)
        if auth is not None:
            self.session.auth = auth
        self.request_hook = request_hook
        self.max_retry_after = float(max_retry_after)
        self.sleep: Callable[[float], None] = time.sleep
        self.n_requests = 0

    def __repr__(self) -> str:
        auth = "***" if self.session.auth else None
        return f"HTTPSession(provider={self.provider!r}, base_url={redact_url(self.base_url or '')!r}, auth={auth!r})"

    # -- helpers --------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        """Absolute URL for ``path`` (returned unchanged when already absolute)."""
        if "://" in path or not self.base_url:
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    @staticmethod
    def timeout() -> float:
        """The per-request timeout now in force (``OPTIONS['http_timeout']``, seconds)."""
        return float(OPTIONS["http_timeout"])

    def _backoff(self, attempt: int) -> float:
        return float(OPTIONS["http_backoff"]) * (2**attempt)

    def close(self) -> None:
        """Close the underlying session."""
        self.session.close()

    def __enter__(self) -> "HTTPSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- requests -------------------------------------------------------------------------------
    def _send_once(self, method: str, url: str, *, stream: bool, **kwargs: Any) -> requests.Response:
        req = requests.Request(method, url, **kwargs)
        prepared = self.session.prepare_request(req)
        if self.request_hook is not None:
            prepared = self.request_hook(prepared) or prepared
        settings = self.session.merge_environment_settings(prepared.url, {}, stream, None, None)
        settings["timeout"] = self.timeout()
        self.n_requests += 1
        log.debug("%s %s %s", self.provider, method, redact_url(prepared.url or url))
        return self.session.send(prepared, allow_redirects=True, **settings)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        ok: Iterable[int] = (),
        hint: str = "",
    ) -> requests.Response:
        """Send a request with timeout, retries and back-off; raise on an error status.

        Parameters
        ----------
        method, url : str
            HTTP method and URL (relative URLs are joined to ``base_url``).
        params, json, data, headers
            As for :func:`requests.request`.
        stream : bool, default False
            Do not read the body yet.
        ok : iterable of int
            Extra statuses >= 400 that are returned instead of raised (e.g. ``(416,)``).
        hint : str
            Added to error messages (what the user can do).

        Raises
        ------
        SourceAPIError
            The server answered with an error status (after retries for 5xx / 429).
        SourceIOError
            The server could not be reached or did not answer within the timeout, after retries.
        """
        url = self.url(url)
        ok = set(ok)
        retries = int(OPTIONS["http_retries"])
        attempt = 0
        while True:
            try:
                resp = self._send_once(method, url, stream=stream, params=params, json=json, data=data, headers=headers)
            except (requests.ConnectionError, requests.Timeout) as err:
                if attempt >= retries:
                    kind = "timed out" if isinstance(err, requests.Timeout) else "could not connect"
                    raise SourceIOError(
                        f"{self.provider}: {method} {redact_url(url, keep_query=False)} {kind} after {attempt + 1} "
                        f"attempt(s) (timeout {self.timeout():g} s, {type(err).__name__}); check the network/proxy "
                        "or raise the 'http_timeout' option"
                    ) from err
                wait = self._backoff(attempt)
                log.info("%s: %s (%s); retry %d/%d in %.2f s", self.provider, redact_url(url, keep_query=False),
                         type(err).__name__, attempt + 1, retries, wait)
                self.sleep(wait)
                attempt += 1
                continue
            status = resp.status_code
            if status < 400 or status in ok:
                return resp
            if status == 429 or status in RETRY_STATUS:
                wait = _retry_after_seconds(resp.headers.get("Retry-After")) if status in (429, 503) else None
                if wait is not None and wait > self.max_retry_after:
                    resp.close()
                    raise self._api_error(resp, f"The server asks to wait {wait:.0f} s before retrying (Retry-After); try again later", hint)
                if attempt < retries:
                    wait = self._backoff(attempt) if wait is None else wait
                    log.info("%s: HTTP %d from %s; retry %d/%d in %.2f s", self.provider, status,
                             redact_url(url, keep_query=False), attempt + 1, retries, wait)
                    resp.close()
                    self.sleep(wait)
                    attempt += 1
                    continue
            raise self._api_error(resp, _hint_for(resp), hint)

    def _api_error(self, resp: requests.Response, auto_hint: str, hint: str) -> SourceAPIError:
        safe = redact_url(resp.url or "", keep_query=False)
        try:
            body = " ".join((resp.text or "")[:300].split())
        except (UnicodeDecodeError, requests.RequestException):
            body = ""
        if "<html" in body.lower() or "<!doctype" in body.lower():
            body = ""  # an HTML error page says nothing useful in one line
        msg = f"{self.provider}: {safe}: HTTP {resp.status_code} {resp.reason or ''}".rstrip()
        if body:
            msg += f" ({body[:200]})"
        for h in (auto_hint, hint):
            if h:
                msg += f". {h}"
        resp.close()
        return SourceAPIError(redact(msg), status_code=resp.status_code, url=safe)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        """``request("GET", url, ...)``."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        """``request("POST", url, ...)``."""
        return self.request("POST", url, **kwargs)

    def get_json(self, url: str, **kwargs: Any) -> Any:
        """GET and decode JSON; a non-JSON answer (e.g. a maintenance page) is a :class:`SourceAPIError`."""
        resp = self.get(url, **kwargs)
        try:
            return resp.json()
        except ValueError as err:
            text = (resp.text or "")[:4000].lower()
            why = "the server is down for maintenance; try again later" if "maintenance" in text else (
                f"expected JSON, got {resp.headers.get('Content-Type', 'no content type')}")
            raise SourceAPIError(
                f"{self.provider}: {redact_url(resp.url or url, keep_query=False)}: {why}",
                status_code=resp.status_code, url=redact_url(resp.url or url, keep_query=False),
            ) from err

    # -- downloads ------------------------------------------------------------------------------
    def download(
        self,
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
        url = self.url(url)
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
            resp = self.request("GET", url, headers=hdrs, stream=True, ok=(416,))
            with resp:
                if resp.status_code == 416:
                    # the part already holds the whole file (or the server has a different file)
                    size = _content_range_total(resp.headers.get("Content-Range"))
                    if size is not None and size == offset:
                        break
                    part.unlink(missing_ok=True)
                    if attempt >= retries:
                        raise SourceIOError(f"{self.provider}: {safe}: the server refused to resume (HTTP 416)")
                    attempt += 1
                    continue
                if offset and resp.status_code == 206:
                    got_start = _content_range_start(resp.headers.get("Content-Range"))
                    if got_start != offset:
                        log.info("%s: %s answered a different range; starting over", self.provider, safe)
                        part.unlink(missing_ok=True)
                        attempt += 1
                        if attempt > retries:
                            raise SourceIOError(f"{self.provider}: {safe}: the server answered a wrong byte range")
                        continue
                    mode = "ab"
                else:
                    if offset:
                        log.info("%s: %s does not support Range; downloading again from the start", self.provider, safe)
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
                    f"{self.provider}: download of {safe} was cut ({why}) after {attempt + 1} attempt(s); "
                    f"{part.stat().st_size} bytes kept in {part} — run again to resume"
                )
            wait = self._backoff(attempt)
            log.info("%s: download of %s cut (%s); resuming in %.2f s", self.provider, safe, why, wait)
            self.sleep(wait)
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
                f"{self.provider}: download of {safe} is corrupt ({'; '.join(problems)}); the partial file was "
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
    """SHA-256 (hex) of a local file."""
    return _file_hashes(Path(path))[0]
