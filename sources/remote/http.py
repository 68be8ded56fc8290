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
import logging
import os
import time
from typing import Any, Callable, Iterable, Mapping

import requests

from parkscan.aoi.errors import SourceAPIError, SourceIOError
from parkscan.aoi.options import OPTIONS

from .credentials import redact, redact_url
from .download import DownloadResult, file_sha256, part_path
from .download import download as _download

__all__ = ["HTTPSession", "DownloadResult", "RETRY_STATUS", "user_agent", "part_path", "file_sha256"]

log = logging.getLogger(__name__)

#: statuses retried with back-off (429 is handled separately through Retry-After)
RETRY_STATUS = frozenset({500, 502, 503, 504})


def user_agent() -> str:
    """``parkscan/<version> python-requests/<version>``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("parkscan")
    except PackageNotFoundError:
        v = "0"
    return f"parkscan/{v} python-requests/{requests.__version__}"


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
    def download(self, url: str, dest: str | os.PathLike, *, sha256: str | None = None, md5: str | None = None,
                 expected_size: int | None = None, resume: bool = True,
                 progress: Callable[[int, int | None], None] | None = None,
                 headers: Mapping[str, str] | None = None) -> "DownloadResult":
        """Download ``url`` to ``dest``, verified and resumable (see :func:`.download.download`).

        Parameters
        ----------
        url : str
            File URL.
        dest : path
            Final file path.
        sha256, md5 : str, optional
            Expected checksums (hex).
        expected_size : int, optional
            Expected size in bytes.
        resume : bool, default True
            Continue from an existing ``.DEST.part``.
        progress : callable, optional
            ``progress(bytes_so_far, total_or_None)``.
        headers : mapping, optional
            Extra request headers.

        Returns
        -------
        DownloadResult
        """
        return _download(self, url, dest, sha256=sha256, md5=md5, expected_size=expected_size, resume=resume,
                         progress=progress, headers=headers)
