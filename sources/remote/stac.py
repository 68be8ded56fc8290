"""STAC catalogues: presets, search by park, Planetary Computer URL signing.

Searches go through pystac-client with an I/O object (:class:`ParkscanStacIO`) that sends every
request through :class:`~.http.HTTPSession` (timeouts, retries, Retry-After, redacted errors) and
caches search pages on disk (:class:`~.cache.RequestCache`, namespace ``stac``).

Presets (``--catalog``): ``earth-search`` (default, no authentication), ``planetary-computer``
(asset URLs signed with a SAS token from the PC token endpoint), ``cdse`` (Copernicus Data Space
STAC), or any STAC API URL.

Loading pixels is in :mod:`.stac_load` (``load_imagery``).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import pystac
from pystac_client import Client
from pystac_client.exceptions import APIError
from pystac_client.stac_api_io import StacApiIO

from parkscan.aoi.errors import SourceAPIError, SourceError

from .cache import RequestCache, request_key
from .credentials import get_credentials, redact_url
from .http import HTTPSession

__all__ = [
    "CATALOGS",
    "PRODUCTS",
    "CatalogPreset",
    "Product",
    "ParkscanStacIO",
    "PlanetaryComputerSigner",
    "StacCatalog",
    "open_catalog",
    "search_items",
    "datetime_range",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Product:
    """A kind of data parkscan asks catalogues for."""

    name: str
    """parkscan's name (``s2-l2a``, ``landsat-c2-l2``, ``s5p-no2``, ``s5p-so2``)."""
    collections: dict[str, str | None]
    """Collection id per catalogue preset (None: the catalogue does not have it); key ``*`` for any URL."""
    cloud_property: str | None = "eo:cloud_cover"
    """Item property filtered by ``max_cloud`` (None: no cloud filter)."""
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Extra STAC query-extension filter per preset (e.g. the S5P product name on PC)."""


PRODUCTS: dict[str, Product] = {
    "s2-l2a": Product("s2-l2a", {"earth-search": "sentinel-2-l2a", "planetary-computer": "sentinel-2-l2a",
                                 "cdse": "sentinel-2-l2a", "*": "sentinel-2-l2a"}),
    "landsat-c2-l2": Product("landsat-c2-l2", {"earth-search": "landsat-c2-l2", "planetary-computer": "landsat-c2-l2",
                                               "cdse": None, "*": "landsat-c2-l2"}),
    "s5p-no2": Product("s5p-no2", {"earth-search": None, "planetary-computer": "sentinel-5p-l2-netcdf",
                                   "cdse": "sentinel-5p-l2-no2-offl", "*": "sentinel-5p-l2-netcdf"}, cloud_property=None,
                       query={"planetary-computer": {"s5p:product_name": {"eq": "no2"}}}),
    "s5p-so2": Product("s5p-so2", {"earth-search": None, "planetary-computer": "sentinel-5p-l2-netcdf",
                                   "cdse": "sentinel-5p-l2-so2-offl", "*": "sentinel-5p-l2-netcdf"}, cloud_property=None,
                       query={"planetary-computer": {"s5p:product_name": {"eq": "so2"}}}),
}
# collection ids accepted as product names too
_ALIASES = {"sentinel-2-l2a": "s2-l2a", "landsat": "landsat-c2-l2", "no2": "s5p-no2", "so2": "s5p-so2",
            "sentinel-5p-no2": "s5p-no2", "sentinel-5p-so2": "s5p-so2"}


@dataclass(frozen=True)
class CatalogPreset:
    """A named STAC API."""

    name: str
    """Preset name (or ``url`` for a custom catalogue)."""
    url: str
    """STAC API root."""
    signer: str | None = None
    """``"planetary-computer"`` when asset URLs need a SAS token."""
    auth: str | None = None
    """Credentials provider name when searches need authentication."""


CATALOGS: dict[str, CatalogPreset] = {
    "earth-search": CatalogPreset("earth-search", "https://earth-search.aws.element84.com/v1"),
    "planetary-computer": CatalogPreset("planetary-computer", "https://planetarycomputer.microsoft.com/api/stac/v1",
                                        signer="planetary-computer"),
    "cdse": CatalogPreset("cdse", "https://stac.dataspace.copernicus.eu/v1"),
}

PC_SAS_URL = "https://planetarycomputer.microsoft.com/api/sas/v1/token"


def resolve_preset(source: str) -> CatalogPreset:
    """A preset by name, or a custom catalogue for a URL (a PC URL keeps PC signing)."""
    if source in CATALOGS:
        return CATALOGS[source]
    if "://" not in source:
        raise SourceError(f"unknown STAC catalogue {source!r}: use one of {sorted(CATALOGS)} or a STAC API URL")
    host = urlsplit(source).hostname or ""
    if host == "planetarycomputer.microsoft.com":
        return CatalogPreset("planetary-computer", source, signer="planetary-computer")
    return CatalogPreset("url", source)


def product(name: str) -> Product:
    """A :class:`Product` by parkscan name or common collection id."""
    key = _ALIASES.get(name, name)
    if key not in PRODUCTS:
        raise SourceError(f"unknown product/collection {name!r}: use one of {sorted(PRODUCTS)}")
    return PRODUCTS[key]


def datetime_range(start: str | date | datetime, end: str | date | datetime) -> str:
    """RFC 3339 interval for STAC ``datetime`` (``end`` inclusive to the end of its day).

    Examples
    --------
    >>> datetime_range("2024-05-01", "2024-05-31")
    '2024-05-01T00:00:00Z/2024-05-31T23:59:59Z'
    """

    def _d(v, last: bool) -> str:
        if isinstance(v, datetime):
            v = v.astimezone(timezone.utc) if v.tzinfo else v
            return v.strftime("%Y-%m-%dT%H:%M:%SZ")
        if isinstance(v, str) and "T" in v:
            return v
        try:
            d = v if isinstance(v, date) else date.fromisoformat(str(v))
        except ValueError as err:
            raise SourceError(f"bad date {v!r}: use YYYY-MM-DD") from err
        return f"{d.isoformat()}T23:59:59Z" if last else f"{d.isoformat()}T00:00:00Z"

    a, b = _d(start, False), _d(end, True)
    if a[:10] > b[:10]:
        raise SourceError(f"the date range {a[:10]}..{b[:10]} is empty: start after end")
    return f"{a}/{b}"


class ParkscanStacIO(StacApiIO):
    """pystac-client I/O through :class:`HTTPSession`, with search pages cached on disk.

    Parameters
    ----------
    session : HTTPSession
        Session used for every request.
    cache : RequestCache, optional
        Where GET/POST answers are cached (None: no cache).
    cache_ttl : float, default 86400
        Seconds a cached answer stays valid (landing pages and searches change slowly; new
        scenes arrive daily).
    """

    def __init__(self, session: HTTPSession, *, cache: RequestCache | None = None, cache_ttl: float = 86400.0):
        super().__init__(max_retries=None)
        self.http = session
        self.session = session.session
        self.cache = cache
        self.cache_ttl = cache_ttl

    def request(self, href: str, method: str | None = None, headers: dict[str, str] | None = None,
                parameters: dict[str, Any] | None = None) -> str:  # noqa: D102
        method = (method or "GET").upper()
        key = request_key(method, href, parameters)
        if self.cache is not None:
            hit = self.cache.get(key, max_age=self.cache_ttl)
            if hit is not None:
                log.debug("stac cache hit %s %s", method, redact_url(href))
                return hit.path.read_text(encoding="utf-8")
        if method in ("POST", "PUT", "PATCH"):
            resp = self.http.request(method, href, json=parameters, headers=headers)
        else:
            resp = self.http.request(method, href, params=parameters or None, headers=headers)
        text = resp.content.decode("utf-8")
        try:
            json.loads(text)
        except ValueError as err:
            low = text[:4000].lower()
            why = "the server is down for maintenance" if "maintenance" in low else "the answer is not JSON"
            raise SourceAPIError(f"{self.http.provider}: {redact_url(href, keep_query=False)}: {why}",
                                 status_code=resp.status_code) from err
        if self.cache is not None:
            self.cache.put(key, text.encode("utf-8"), url=href, method=method)
        return text


class PlanetaryComputerSigner:
    """Sign Azure Blob asset URLs with SAS tokens from the Planetary Computer token endpoint.

    ``GET {sas_url}/{account}/{container}`` answers ``{"token": "...", "msft:expiry": "..."}``;
    the token is appended as the URL query. Tokens are cached per container until shortly before
    they expire. A subscription key (``PC_SDK_SUBSCRIPTION_KEY``) is sent when set.
    """

    def __init__(self, session: HTTPSession, *, sas_url: str = PC_SAS_URL):
        self.http = session
        self.sas_url = sas_url.rstrip("/")
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()
        cred = get_credentials("planetary-computer", required=False)
        self._headers = {"Ocp-Apim-Subscription-Key": cred.password} if cred else {}

    def token(self, account: str, container: str) -> str:
        """A valid SAS token for ``account/container``."""
        with self._lock:
            tok = self._tokens.get((account, container))
            if tok and tok[1] - time.time() > 300:
                return tok[0]
        data = self.http.get_json(f"{self.sas_url}/{account}/{container}", headers=self._headers)
        token = data.get("token")
        if not token:
            raise SourceAPIError(f"planetary-computer: the token endpoint gave no token for {account}/{container}")
        expiry = time.time() + 3600
        if data.get("msft:expiry"):
            try:
                expiry = datetime.fromisoformat(str(data["msft:expiry"]).replace("Z", "+00:00")).timestamp()
            except ValueError:
                pass
        from .credentials import register_secret

        register_secret(token)
        with self._lock:
            self._tokens[(account, container)] = (token, expiry)
        return token

    def __call__(self, href: str) -> str:
        """Sign ``href`` (unchanged when it is not an Azure Blob URL or already signed)."""
        parts = urlsplit(href)
        host = parts.hostname or ""
        if not host.endswith(".blob.core.windows.net") or "sig=" in (parts.query or ""):
            return href
        account = host.split(".", 1)[0]
        container = parts.path.lstrip("/").split("/", 1)[0]
        tok = self.token(account, container)
        return f"{href}{'&' if parts.query else '?'}{tok}"

    def sign_item(self, item: pystac.Item) -> pystac.Item:
        """Sign every asset href of ``item`` in place (a pystac-client ``modifier``)."""
        for asset in item.assets.values():
            asset.href = self(asset.href)
        return item


class StacCatalog:
    """A STAC API opened through parkscan's HTTP session, cache and (when needed) URL signing.

    Parameters
    ----------
    source : str
        Preset name (``earth-search``, ``planetary-computer``, ``cdse``) or STAC API URL.
    session : HTTPSession, optional
        Session to use (one is made per catalogue).
    cache_ttl : float, default 86400
        Validity of cached search pages, seconds (0 disables the cache).
    sas_url : str, optional
        Planetary Computer token endpoint (tests point it at a loopback stand-in).
    """

    def __init__(self, source: str, *, session: HTTPSession | None = None, cache_ttl: float = 86400.0,
                 sas_url: str | None = None):
        self.preset = resolve_preset(source)
        self.http = session or HTTPSession(f"stac:{self.preset.name}")
        cache = RequestCache("stac") if cache_ttl > 0 else None
        self.io = ParkscanStacIO(self.http, cache=cache, cache_ttl=cache_ttl)
        self.signer = (PlanetaryComputerSigner(self.http, sas_url=sas_url or PC_SAS_URL)
                       if self.preset.signer == "planetary-computer" else None)
        self._client: Client | None = None

    def __repr__(self) -> str:
        return f"StacCatalog({self.preset.name!r}, url={redact_url(self.preset.url)!r})"

    @property
    def url(self) -> str:
        """The STAC API root URL."""
        return self.preset.url

    @property
    def client(self) -> Client:
        """The pystac-client ``Client`` (opened on first use)."""
        if self._client is None:
            try:
                self._client = Client.open(self.preset.url, stac_io=self.io)
            except (APIError, pystac.STACError) as err:
                raise SourceAPIError(f"{self.http.provider}: could not open {redact_url(self.preset.url)}: {err}") from err
        return self._client

    def sign(self, href: str) -> str:
        """``href`` ready to read (signed on Planetary Computer, unchanged elsewhere)."""
        return self.signer(href) if self.signer is not None else href

    def collection_for(self, name: str) -> tuple[str, Product]:
        """Collection id of a product (or a literal collection id) in this catalogue."""
        try:
            prod = product(name)
        except SourceError:
            return name, Product(name, {"*": name}, cloud_property=None)
        coll = prod.collections.get(self.preset.name, prod.collections.get("*"))
        if coll is None:
            raise SourceError(f"the {self.preset.name} catalogue has no {prod.name} collection; "
                              f"try --catalog {' or '.join(k for k, v in prod.collections.items() if v and k != '*')}")
        return coll, prod

    def search(self, *, collection: str | list[str], start=None, end=None, intersects: dict | None = None,
               bbox: tuple[float, float, float, float] | None = None, max_cloud: float | None = None,
               max_items: int | None = 500, limit: int = 100) -> list[pystac.Item]:
        """Items of one product/collection, sorted by cloud cover then date.

        Parameters
        ----------
        collection : str or list of str
            Product name (:data:`PRODUCTS`) or a collection id, or several.
        start, end : str or date, optional
            Inclusive dates (``YYYY-MM-DD``); None for no date filter.
        intersects : dict, optional
            GeoJSON geometry (WGS-84) the items must intersect.
        bbox : tuple, optional
            ``(west, south, east, north)`` instead of ``intersects``.
        max_cloud : float, optional
            Keep items with cloud cover below this percentage.
        max_items : int, default 500
            Stop after this many items (pages are followed via ``next`` links).
        """
        names = [collection] if isinstance(collection, str) else list(collection)
        pairs = [self.collection_for(n) for n in names]
        colls = [c for c, _ in pairs]
        prod = pairs[0][1]
        query: dict[str, Any] = {}
        for _, p in pairs:
            query.update(p.query.get(self.preset.name, {}))
        if max_cloud is not None and prod.cloud_property:
            query[prod.cloud_property] = {"lte": float(max_cloud)}
        kwargs: dict[str, Any] = {"collections": colls, "max_items": max_items, "limit": limit}
        if start is not None or end is not None:
            kwargs["datetime"] = datetime_range(start or "1970-01-01", end or date.today())
        if intersects is not None:
            kwargs["intersects"] = intersects
        elif bbox is not None:
            kwargs["bbox"] = list(bbox)
        if query:
            kwargs["query"] = query
        try:
            items = list(self.client.search(**kwargs).items())
        except APIError as err:
            raise SourceAPIError(f"{self.http.provider}: search failed: {err}") from err
        if max_cloud is not None and prod.cloud_property:  # servers without the query extension
            items = [it for it in items if float(it.properties.get(prod.cloud_property, 0.0) or 0.0) <= max_cloud]
        items.sort(key=lambda it: (float(it.properties.get(prod.cloud_property or "", 0) or 0), str(it.datetime)))
        log.info("%s: %d %s item(s) %s", self.http.provider, len(items), ",".join(colls), kwargs.get("datetime", ""))
        return items


def open_catalog(source: "str | StacCatalog", **kwargs: Any) -> StacCatalog:
    """A :class:`StacCatalog` from a preset name, URL, or an existing catalogue."""
    return source if isinstance(source, StacCatalog) else StacCatalog(source, **kwargs)


def search_items(source: "str | StacCatalog", park, *, collection: str = "s2-l2a", start, end,
                 max_cloud: float | None = 30, ring_m: float | None = None, max_items: int | None = 500) -> list[pystac.Item]:
    """Search a catalogue for items over a park (footprint + ring).

    Parameters
    ----------
    source : str or StacCatalog
        Preset name or STAC API URL.
    park : parkscan.aoi.Park
        The park.
    collection : str, default ``"s2-l2a"``
        Product name or collection id.
    start, end : str or date
        Inclusive dates.
    max_cloud : float, optional
        Maximum cloud cover (percent).
    ring_m : float, optional
        Ring width around the park (default ``OPTIONS['ring_m']``).
    """
    import shapely

    geom = park.footprint
    if ring_m is None or ring_m > 0:
        geom = shapely.union_all([park.footprint, park.ring(ring_m)])
    cat = open_catalog(source)
    return cat.search(collection=collection, start=start, end=end, intersects=shapely.geometry.mapping(geom.envelope),
                      max_cloud=max_cloud, max_items=max_items)

