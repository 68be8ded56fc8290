"""DHuS hubs through sentinelsat, with what sentinelsat lacks.

``SentinelAPI(user, password, api_url=...)`` is used as is for the OpenSearch query (park
footprint as WKT via ``geojson_to_wkt``, dates, platform, cloud cover) and ``download_all``
(MD5 verification against the OData ``Checksum``, resume of ``.incomplete`` files). parkscan adds:

* a request timeout: sentinelsat stores ``session.timeout`` but ``requests`` ignores that
  attribute, so no request of sentinelsat has a timeout. The session is replaced by a
  :class:`TimeoutSession` that passes ``OPTIONS['http_timeout']`` to every request and retries
  5xx / 429 (``Retry-After``) / connection errors with back-off;
* a clear refusal of the closed Copernicus Open Access Hub (``scihub``/``apihub.copernicus.eu``,
  shut down in 2023) and of CDSE, which does not speak DHuS (use ``--source cdse`` or
  ``--source stac --catalog cdse``);
* errors mapped to parkscan's tree, messages free of credentials.
"""
from __future__ import annotations

import logging
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from parkscan.aoi.errors import SourceAPIError, SourceError, SourceIOError
from parkscan.aoi.options import OPTIONS

from .credentials import Credentials, get_credentials, redact, redact_url
from .http import file_sha256

__all__ = ["CLOSED_HUBS", "TimeoutSession", "open_hub", "search", "download", "check_hub_url"]

log = logging.getLogger(__name__)

#: hosts of the Copernicus Open Access Hub, closed in October 2023
CLOSED_HUBS = frozenset({"scihub.copernicus.eu", "apihub.copernicus.eu", "colhub.copernicus.eu",
                         "s5phub.copernicus.eu", "coda.eumetsat.int"})
_CDSE_HOSTS = ("dataspace.copernicus.eu",)


def check_hub_url(api_url: str) -> str:
    """Refuse hubs that can not work; return the URL with a trailing slash.

    Raises
    ------
    SourceError
        The closed Copernicus hub, or a CDSE URL (CDSE is not DHuS-compatible).
    """
    host = (urlsplit(api_url).hostname or "").lower()
    if host in CLOSED_HUBS:
        raise SourceError(
            f"{host} is the Copernicus Open Access Hub (DHuS), closed in 2023; its successor, the Copernicus Data "
            "Space Ecosystem, is not DHuS-compatible: use `--source cdse` (OData) or `--source stac --catalog cdse`"
        )
    if any(host == h or host.endswith("." + h) for h in _CDSE_HOSTS):
        raise SourceError(
            f"{host} belongs to the Copernicus Data Space Ecosystem, which does not speak the DHuS API that "
            "sentinelsat needs: use `--source cdse` (OData) or `--source stac --catalog cdse`"
        )
    if "://" not in api_url:
        raise SourceError(f"DHuS URL {api_url!r} is not a URL (e.g. https://hub.example.org/dhus/)")
    return api_url if api_url.endswith("/") else api_url + "/"


class TimeoutSession(requests.Session):
    """A ``requests.Session`` that never sends a request without a timeout, with retries.

    The timeout is ``OPTIONS['http_timeout']`` read at each request; retries (urllib3
    ``Retry``) cover connection errors, 500/502/503/504 and 429 with ``Retry-After``.
    """

    def __init__(self) -> None:
        super().__init__()
        retry = Retry(
            total=int(OPTIONS["http_retries"]), connect=int(OPTIONS["http_retries"]), read=int(OPTIONS["http_retries"]),
            status=int(OPTIONS["http_retries"]), backoff_factor=float(OPTIONS["http_backoff"]),
            status_forcelist=(429, 500, 502, 503, 504), allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True, raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(self, method, url, *args, **kwargs):  # noqa: D102
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = float(OPTIONS["http_timeout"])
        log.debug("dhus %s %s", method, redact_url(str(url), keep_query=False))
        return super().request(method, url, *args, **kwargs)

    def __repr__(self) -> str:
        return f"TimeoutSession(auth={'***' if self.auth else None})"


def open_hub(api_url: str, *, credentials: Credentials | None = None, show_progressbars: bool = False):
    """A ``sentinelsat.SentinelAPI`` on ``api_url`` with parkscan's session (timeouts, retries).

    Parameters
    ----------
    api_url : str
        DHuS root (e.g. ``https://hub.example.org/dhus/``); ``$DHUS_URL`` is a good place for it.
    credentials : Credentials, optional
        Default: ``DHUS_USER``/``DHUS_PASSWORD`` or the netrc entry of the hub's host.
    """
    from sentinelsat import SentinelAPI

    url = check_hub_url(api_url)
    cred = credentials or get_credentials("dhus", host=urlsplit(url).hostname)
    api = SentinelAPI(cred.username, cred.password, api_url=url, show_progressbars=show_progressbars,
                      timeout=float(OPTIONS["http_timeout"]))
    old = api.session
    sess = TimeoutSession()
    sess.auth = old.auth
    sess.headers.update(old.headers)
    api.session = sess
    api.dl_retry_delay = float(OPTIONS["http_backoff"])
    api.downloader.dl_retry_delay = float(OPTIONS["http_backoff"])
    return api


def _map_error(err: Exception, what: str) -> SourceError:
    from sentinelsat.exceptions import InvalidChecksumError, UnauthorizedError

    resp = getattr(err, "response", None)
    status = getattr(resp, "status_code", None)
    text = ""
    try:
        text = (resp.text or "")[:4000].lower() if resp is not None else ""
    except (UnicodeDecodeError, requests.RequestException):
        pass
    msg = redact(str(getattr(err, "msg", None) or err))
    if isinstance(err, UnauthorizedError) or status == 401:
        return SourceAPIError(f"dhus: {what}: the hub rejected the credentials (HTTP 401); check DHUS_USER/DHUS_PASSWORD "
                              "or the ~/.netrc entry of the hub", status_code=401)
    if "maintenance" in text or "maintenance" in msg.lower():
        return SourceAPIError(f"dhus: {what}: the hub is down for maintenance; try again later", status_code=status)
    if isinstance(err, InvalidChecksumError):
        return SourceIOError(f"dhus: {what}: the downloaded file does not match the hub's MD5 checksum; it was deleted — "
                             "run again")
    if isinstance(err, (requests.ConnectionError, requests.Timeout)):
        return SourceIOError(f"dhus: {what}: the hub did not answer within {OPTIONS['http_timeout']} s or could not be "
                             f"reached ({type(err).__name__})")
    return SourceAPIError(f"dhus: {what}: {msg[:300]}", status_code=status)


def search(api, park=None, *, start, end, platform: str = "Sentinel-2", producttype: str | None = None,
           max_cloud: float | None = None, area_wkt: str | None = None, limit: int | None = None,
           **keywords: Any) -> "OrderedDict[str, dict]":
    """OpenSearch query over the park footprint.

    Parameters
    ----------
    api : sentinelsat.SentinelAPI
        From :func:`open_hub`.
    park : Park, optional
        Footprint from the park (``geojson_to_wkt``); or give ``area_wkt``.
    start, end : str
        Dates ``YYYY-MM-DD`` (or sentinelsat date expressions such as ``NOW-7DAYS``).
    platform : str, default "Sentinel-2"
        ``platformname``.
    producttype : str, optional
        e.g. ``S2MSI2A``.
    max_cloud : float, optional
        ``cloudcoverpercentage`` upper bound.
    """
    from sentinelsat import geojson_to_wkt
    from sentinelsat.exceptions import SentinelAPIError

    if area_wkt is None and park is not None:
        import shapely

        area_wkt = geojson_to_wkt({"type": "Feature", "geometry": shapely.geometry.mapping(park.footprint), "properties": {}})
    kw: dict[str, Any] = dict(keywords)
    if platform:
        kw["platformname"] = platform
    if producttype:
        kw["producttype"] = producttype
    if max_cloud is not None:
        kw["cloudcoverpercentage"] = (0, max_cloud)
    date = (_dhus_date(start), _dhus_date(end, end=True)) if start or end else None
    try:
        return api.query(area=area_wkt, date=date, limit=limit, **kw)
    except (SentinelAPIError, requests.RequestException) as err:
        raise _map_error(err, "search") from err


def _dhus_date(v, *, end: bool = False):
    """``YYYY-MM-DD`` → sentinelsat's ``YYYYMMDD``; an end date becomes the next midnight (inclusive day)."""
    from datetime import date, timedelta

    if v is None:
        return "*"
    s = str(v)
    if len(s) == 10 and s[4] == "-":
        d = date.fromisoformat(s) + timedelta(days=1 if end else 0)
        return d.strftime("%Y%m%d")
    return s


def download(api, product_ids, out_dir: str | os.PathLike, *, checksum: bool = True) -> list[dict]:
    """``download_all`` into ``out_dir``; returns one record per product for the manifest.

    Raises
    ------
    SourceIOError
        A product failed its checksum (after sentinelsat's retries) or could not be downloaded.
    """
    from sentinelsat.exceptions import SentinelAPIError

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ids = list(product_ids)
    try:
        downloaded, triggered, failed = api.download_all(ids, directory_path=str(out), checksum=checksum,
                                                         max_attempts=max(1, int(OPTIONS["http_retries"])))
    except (SentinelAPIError, requests.RequestException) as err:
        raise _map_error(err, "download") from err
    if failed:
        pid, info = next(iter(failed.items()))
        err = info.get("exception") or SourceIOError("unknown failure")
        raise _map_error(err, f"download of product {pid}") from err
    if triggered:
        raise SourceError(f"dhus: product(s) {sorted(triggered)} are offline (long-term archive); their retrieval was "
                          "requested — run again later")
    infos = downloaded
    records = []
    for pid in ids:
        info = infos.get(pid) or {}
        path = Path(info.get("path") or out / f"{info.get('title', pid)}.zip")
        if not path.exists():
            raise SourceIOError(f"dhus: product {pid} was not downloaded")
        records.append({
            "id": pid, "title": info.get("title"), "path": str(path), "url": redact_url(info.get("url", "")),
            "bytes": path.stat().st_size, "md5": info.get("md5"), "sha256": file_sha256(path),
            "date": str(info.get("date") or ""),
        })
    return records
