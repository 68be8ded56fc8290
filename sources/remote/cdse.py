"""Copernicus Data Space Ecosystem (CDSE): OData product search and download.

* Search: ``GET {catalogue}/odata/v1/Products?$filter=...`` with ``Collection/Name``, the park
  footprint (``OData.CSC.Intersects(area=geography'SRID=4326;POLYGON(...)')``), ``ContentDate/Start``
  bounds, ``cloudCover`` and ``productType`` attributes; pages followed via ``@odata.nextLink``.
* Token: OAuth2 password grant (``client_id=cdse-public``) at the identity server, from
  ``CDSE_USERNAME``/``CDSE_PASSWORD`` or ``~/.netrc``; refreshed with the refresh token before it
  expires, and once more when a request answers 401.
* Download: ``{download}/odata/v1/Products(<Id>)/$value`` with a bearer token, verified against the
  product's ``Checksum`` (MD5) and ``ContentLength``, resumable (:meth:`HTTPSession.download`).
* Single files out of a SAFE via the ``Nodes()`` API when a park needs only a few bands.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from parkscan.aoi.errors import SourceAPIError, SourceError

import requests

from .credentials import Credentials, get_credentials, register_secret
from .download import checked_file_name
from .http import DownloadResult, HTTPSession

__all__ = ["CDSE_URLS", "CDSEProduct", "CDSEToken", "CDSEClient", "odata_filter", "download_name"]

log = logging.getLogger(__name__)

CDSE_URLS = {
    "catalogue": "https://catalogue.dataspace.copernicus.eu/odata/v1",
    "download": "https://download.dataspace.copernicus.eu/odata/v1",
    "token": "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token",
}

#: parkscan product name → (CDSE collection, productType)
CDSE_PRODUCTS = {
    "s2-l2a": ("SENTINEL-2", "S2MSI2A"),
    "s2-l1c": ("SENTINEL-2", "S2MSI1C"),
    "s5p-no2": ("SENTINEL-5P", "L2__NO2___"),
    "s5p-so2": ("SENTINEL-5P", "L2__SO2___"),
    "s1-grd": ("SENTINEL-1", "GRD"),
}


class _KeepAuthSession(requests.Session):
    """Keeps the bearer token across CDSE's redirect from the download host to its zipper hosts.

    ``requests`` drops ``Authorization`` on any redirect to another host; CDSE's
    ``download.dataspace.copernicus.eu`` redirects to ``zipper.dataspace.copernicus.eu``, which
    needs the token. Only redirects within the same parent domain keep it.
    """

    def should_strip_auth(self, old_url: str, new_url: str) -> bool:  # noqa: D102
        from urllib.parse import urlsplit

        old, new = urlsplit(old_url).hostname or "", urlsplit(new_url).hostname or ""
        parent = ".".join(old.split(".")[-3:]) if old.count(".") >= 2 and not old[0].isdigit() else old
        if new == old or (parent and new.endswith("." + parent)):
            return False
        return super().should_strip_auth(old_url, new_url)


@dataclass(frozen=True)
class CDSEProduct:
    """One CDSE product from an OData search."""

    id: str
    """Product UUID."""
    name: str
    """Product name (e.g. ``S2B_MSIL2A_..._.SAFE``)."""
    size: int | None
    """``ContentLength`` in bytes."""
    md5: str | None
    """MD5 from the ``Checksum`` list."""
    start: str
    """``ContentDate/Start``."""
    online: bool = True
    """False for products in the long-term archive."""
    footprint: str | None = None
    """WKT footprint (``SRID=4326;`` stripped)."""
    attributes: dict[str, Any] = field(default_factory=dict)
    """Expanded attributes (cloudCover, productType, ...) when requested."""

    @classmethod
    def from_odata(cls, d: dict) -> "CDSEProduct":
        """Parse one entry of an OData ``value`` list."""
        md5 = None
        for c in d.get("Checksum") or []:
            if str(c.get("Algorithm", "")).upper() == "MD5" and c.get("Value"):
                md5 = str(c["Value"]).lower()
        fp = d.get("Footprint")
        if isinstance(fp, str):
            m = re.search(r"SRID=4326;(.*?)'?$", fp)
            fp = m.group(1) if m else fp
        attrs = {a.get("Name"): a.get("Value") for a in d.get("Attributes") or [] if isinstance(a, dict)}
        size = d.get("ContentLength")
        return cls(id=str(d["Id"]), name=str(d.get("Name", d["Id"])), size=int(size) if size not in (None, "") else None,
                   md5=md5, start=str((d.get("ContentDate") or {}).get("Start", "")), online=bool(d.get("Online", True)),
                   footprint=fp, attributes=attrs)


def _odata_date(v, *, end: bool = False) -> str:
    s = str(v)
    if len(s) == 10:
        return f"{s}T23:59:59.999Z" if end else f"{s}T00:00:00.000Z"
    return s


def odata_filter(*, collection: str, start=None, end=None, wkt: str | None = None, max_cloud: float | None = None,
                 product_type: str | None = None) -> str:
    """The ``$filter`` expression of a CDSE product search.

    Examples
    --------
    >>> odata_filter(collection="SENTINEL-2", start="2024-05-01", end="2024-05-31", max_cloud=20)
    "Collection/Name eq 'SENTINEL-2' and ContentDate/Start ge 2024-05-01T00:00:00.000Z and ContentDate/Start le 2024-05-31T23:59:59.999Z and Attributes/OData.CSC.DoubleAttribute/any(att:att/Name eq 'cloudCover' and att/OData.CSC.DoubleAttribute/Value le 20.00)"
    """
    parts = [f"Collection/Name eq '{collection}'"]
    if wkt:
        parts.append(f"OData.CSC.Intersects(area=geography'SRID=4326;{wkt}')")
    if start:
        parts.append(f"ContentDate/Start ge {_odata_date(start)}")
    if end:
        parts.append(f"ContentDate/Start le {_odata_date(end, end=True)}")
    if max_cloud is not None:
        parts.append("Attributes/OData.CSC.DoubleAttribute/any(att:att/Name eq 'cloudCover' and "
                     f"att/OData.CSC.DoubleAttribute/Value le {float(max_cloud):.2f})")
    if product_type:
        parts.append("Attributes/OData.CSC.StringAttribute/any(att:att/Name eq 'productType' and "
                     f"att/OData.CSC.StringAttribute/Value eq '{product_type}')")
    return " and ".join(parts)


def download_name(product: CDSEProduct) -> str:
    """File name of a whole-product download: folders (``.SAFE``, ``.SEN3``, no suffix) come zipped."""
    name = checked_file_name(product.name, source="cdse")
    if name.lower().endswith((".zip", ".nc", ".nc4", ".h5", ".tif", ".tiff")):
        return name
    return f"{name}.zip"


class CDSEToken:
    """An OAuth2 access token for CDSE, obtained with the password grant and refreshed.

    Parameters
    ----------
    session : HTTPSession
        Session for the token endpoint.
    credentials : Credentials
        CDSE user name and password.
    token_url : str
        Token endpoint.
    """

    def __init__(self, session: HTTPSession, credentials: Credentials, *, token_url: str = CDSE_URLS["token"]):
        self.http = session
        self.credentials = credentials
        self.token_url = token_url
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires = 0.0
        self._refresh_expires = 0.0
        self._lock = threading.Lock()
        self.n_grants = 0
        self.n_refreshes = 0

    def __repr__(self) -> str:
        return f"CDSEToken(user={self.credentials.username!r}, token='***')"

    def _post(self, data: dict) -> dict:
        resp = self.http.request("POST", self.token_url, data=data, ok=(400, 401),
                                 hint="check CDSE_USERNAME/CDSE_PASSWORD or the ~/.netrc entry")
        if resp.status_code in (400, 401):
            raise SourceAPIError(
                f"cdse: the identity server rejected the credentials from {self.credentials.origin} "
                f"(HTTP {resp.status_code}); check CDSE_USERNAME/CDSE_PASSWORD or the ~/.netrc entry "
                "for identity.dataspace.copernicus.eu", status_code=resp.status_code)
        try:
            return resp.json()
        except ValueError as err:
            raise SourceAPIError("cdse: the token endpoint did not answer JSON (maintenance?)") from err

    def _store(self, d: dict) -> None:
        if not d.get("access_token"):
            raise SourceAPIError("cdse: the token endpoint answered without an access token")
        now = time.time()
        self._access = d["access_token"]
        register_secret(self._access)
        self._refresh = d.get("refresh_token")
        register_secret(self._refresh)
        self._expires = now + float(d.get("expires_in", 600))
        self._refresh_expires = now + float(d.get("refresh_expires_in", 3600))

    def get(self, *, force: bool = False) -> str:
        """A valid access token (refreshed 60 s before expiry, or now when ``force``)."""
        with self._lock:
            now = time.time()
            if self._access and not force and now < self._expires - 60:
                return self._access
            if self._refresh and now < self._refresh_expires - 60:
                try:
                    self._store(self._post({"client_id": "cdse-public", "grant_type": "refresh_token",
                                            "refresh_token": self._refresh}))
                    self.n_refreshes += 1
                    return self._access  # type: ignore[return-value]
                except SourceAPIError:
                    log.info("cdse: token refresh refused; logging in again")
            self._store(self._post({"client_id": "cdse-public", "grant_type": "password",
                                    "username": self.credentials.username, "password": self.credentials.password}))
            self.n_grants += 1
            return self._access  # type: ignore[return-value]

    def headers(self, *, force: bool = False) -> dict[str, str]:
        """``{"Authorization": "Bearer ..."}``."""
        return {"Authorization": f"Bearer {self.get(force=force)}"}


class CDSEClient:
    """Search and download CDSE products.

    Parameters
    ----------
    catalogue_url, download_url, token_url : str, optional
        Endpoints (defaults: ``$CDSE_CATALOGUE_URL``, ``$CDSE_DOWNLOAD_URL``, ``$CDSE_TOKEN_URL``, else
        :data:`CDSE_URLS`; tests point them at loopback stand-ins).
    credentials : Credentials, optional
        Default: ``CDSE_USERNAME``/``CDSE_PASSWORD`` or ``~/.netrc``; needed only to download.
    """

    def __init__(self, *, catalogue_url: str | None = None, download_url: str | None = None, token_url: str | None = None,
                 credentials: Credentials | None = None, session: HTTPSession | None = None):
        env = os.environ.get
        self.catalogue_url = (catalogue_url or env("CDSE_CATALOGUE_URL") or CDSE_URLS["catalogue"]).rstrip("/")
        self.download_url = (download_url or env("CDSE_DOWNLOAD_URL") or CDSE_URLS["download"]).rstrip("/")
        self.token_url = token_url or env("CDSE_TOKEN_URL") or CDSE_URLS["token"]
        self.http = session or HTTPSession("cdse", session=_KeepAuthSession())
        self._credentials = credentials
        self._token: CDSEToken | None = None

    def __repr__(self) -> str:
        return f"CDSEClient(catalogue={self.catalogue_url!r})"

    @property
    def token(self) -> CDSEToken:
        """The OAuth token (credentials are read on first use)."""
        if self._token is None:
            cred = self._credentials or get_credentials("cdse")
            self._token = CDSEToken(self.http, cred, token_url=self.token_url)
        return self._token

    # -- search ---------------------------------------------------------------------------------
    def search(self, park=None, *, product: str = "s2-l2a", start=None, end=None, max_cloud: float | None = None,
               wkt: str | None = None, top: int = 100, max_items: int | None = 1000) -> list[CDSEProduct]:
        """Products of ``product`` over the park footprint, oldest first.

        Parameters
        ----------
        park : Park, optional
            Footprint from the park envelope (or give ``wkt``).
        product : str
            A key of ``CDSE_PRODUCTS`` (``s2-l2a``, ``s5p-no2``, ...) or ``COLLECTION[:productType]``.
        start, end : str
            Inclusive dates ``YYYY-MM-DD``.
        max_cloud : float, optional
            ``cloudCover`` upper bound (ignored for products without it, e.g. Sentinel-5P).
        """
        if product in CDSE_PRODUCTS:
            collection, ptype = CDSE_PRODUCTS[product]
        else:
            collection, _, ptype = product.partition(":")
            ptype = ptype or None
        if wkt is None and park is not None:
            wkt = park.footprint.envelope.wkt
        if collection == "SENTINEL-5P":
            max_cloud = None
        flt = odata_filter(collection=collection, start=start, end=end, wkt=wkt, max_cloud=max_cloud, product_type=ptype)
        params: dict[str, Any] | None = {"$filter": flt, "$orderby": "ContentDate/Start asc", "$top": str(top),
                                         "$expand": "Attributes"}
        url: str | None = f"{self.catalogue_url}/Products"
        out: list[CDSEProduct] = []
        while url:
            data = self.http.get_json(url, params=params)
            if not isinstance(data, dict) or "value" not in data:
                raise SourceAPIError(f"cdse: unexpected search answer from {self.catalogue_url} (no 'value' list)")
            out.extend(CDSEProduct.from_odata(d) for d in data["value"])
            if max_items is not None and len(out) >= max_items:
                return out[:max_items]
            url, params = data.get("@odata.nextLink"), None
        log.info("cdse: %d %s product(s)", len(out), product)
        return out

    # -- download -------------------------------------------------------------------------------
    def _authorised(self, fn, *args, **kwargs):
        """Call ``fn(headers, ...)``; on HTTP 401 force a new token and try once more."""
        try:
            return fn(self.token.headers(), *args, **kwargs)
        except SourceAPIError as err:
            if err.status_code != 401:
                raise
            log.info("cdse: token refused (401); getting a new one")
            return fn(self.token.headers(force=True), *args, **kwargs)

    def download(self, product: CDSEProduct, out_dir: str | Path, *, resume: bool = True, progress=None) -> DownloadResult:
        """Download a whole product (zip) to ``out_dir/<name>.zip``, verified against its MD5 and size."""
        if not product.online:
            raise SourceError(f"cdse: product {product.name} is offline (long-term archive); order it and run again later")
        name = download_name(product)
        url = f"{self.download_url}/Products({product.id})/$value"

        def go(headers):
            return self.http.download(url, Path(out_dir) / name, md5=product.md5, expected_size=product.size,
                                      resume=resume, progress=progress, headers=headers)

        return self._authorised(go)

    def nodes(self, product: CDSEProduct, path: Sequence[str] = ()) -> list[dict]:
        """Children of a node of the product tree (``path`` below the product's root folder)."""
        segs = "".join(f"/Nodes({p})" for p in (product.name, *path))
        url = f"{self.download_url}/Products({product.id}){segs}/Nodes"

        def go(headers):
            return self.http.get_json(url, headers=headers)

        data = self._authorised(go)
        rows = data.get("result", data.get("value", [])) if isinstance(data, dict) else data
        return [r for r in rows if isinstance(r, dict)]

    def walk(self, product: CDSEProduct, path: Sequence[str] = (), *, max_depth: int = 6) -> Iterator[tuple[list[str], dict]]:
        """Every file node below ``path``: ``(path parts, node dict)``."""
        for node in self.nodes(product, path):
            here = [*path, node["Name"]]
            if int(node.get("ChildrenNumber", 0) or 0) > 0 and max_depth > 0:
                yield from self.walk(product, here, max_depth=max_depth - 1)
            else:
                yield here, node

    def download_bands(self, product: CDSEProduct, out_dir: str | Path, *, bands: Sequence[str] = ("B04", "B08"),
                       resolution: int | None = 10, progress=None) -> list[DownloadResult]:
        """Only the band files of a Sentinel-2 SAFE (``GRANULE/*/IMG_DATA/[R10m/]*_B04[_10m].jp2``).

        Sizes are checked against each node's ``ContentLength`` (nodes carry no checksum).
        """
        want = {b.upper() for b in bands}
        found: list[tuple[list[str], dict]] = []
        for parts, node in self.walk(product, ("GRANULE",)):
            name = node["Name"]
            m = re.search(r"_(B\d\d|B8A|SCL|TCI)(?:_(\d+)m)?\.jp2$", name)
            if not m or m.group(1) not in want or "IMG_DATA" not in parts:
                continue
            if resolution is not None and m.group(2) and int(m.group(2)) != resolution:
                continue
            found.append((parts, node))
        if not found:
            raise SourceError(f"cdse: no file for bands {sorted(want)} at {resolution} m in {product.name}")
        out = []
        for parts, node in found:
            segs = "".join(f"/Nodes({p})" for p in (product.name, *parts))
            url = f"{self.download_url}/Products({product.id}){segs}/$value"
            size = node.get("ContentLength")
            dest = (Path(out_dir) / checked_file_name(product.name.replace(".SAFE", ""), source="cdse")
                    / checked_file_name(parts[-1], source="cdse"))

            def go(headers, url=url, dest=dest, size=size):
                return self.http.download(url, dest, expected_size=int(size) if size else None, progress=progress,
                                          headers=headers)

            out.append(self._authorised(go))
        return out
