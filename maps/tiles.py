"""Background tiles for static maps: fetch an XYZ mosaic over an extent (cached), ready to reproject.

Interactive maps let the browser fetch tiles; a static map needs them as one image. Tiles are cached in
``parkscan.aoi.options.cache_dir()/tiles`` so re-rendering is offline. Gaode tiles are in GCJ-02: the mosaic's
georeference is moved back by the local WGS-84→GCJ-02 offset so the tiles sit under WGS-84 data.
"""
from __future__ import annotations

import hashlib
import io
import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from parkscan.aoi.errors import ParkscanError, SourceAPIError

from .basemaps import TileSpec, basemap, shift_lonlat

__all__ = ["Mosaic", "fetch_mosaic", "tile_range", "ATTRIBUTION_TEXT"]

log = logging.getLogger(__name__)
_R = 6378137.0
USER_AGENT = "parkscan (industrial-park screening; static map rendering)"

#: Plain-text attributions for static maps (the interactive ones carry HTML links).
ATTRIBUTION_TEXT = {"osm": "© OpenStreetMap contributors", "tianditu": "© 天地图 Tianditu", "gaode": "© 高德地图 AutoNavi"}


@dataclass(frozen=True)
class Mosaic:
    """A tile mosaic in Web Mercator."""

    image: np.ndarray
    """RGB(A) uint8 (height, width, 3|4), north up."""
    bounds: tuple[float, float, float, float]
    """(west, south, east, north) in EPSG:3857 metres."""
    zoom: int
    """Tile zoom level used."""


def _xy(lon: float, lat: float, z: int) -> tuple[float, float]:
    n = 2 ** z
    lat = max(min(lat, 85.05112878), -85.05112878)
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return x, y


def tile_range(west: float, south: float, east: float, north: float, *, max_tiles: int = 36,
               max_zoom: int = 18) -> tuple[int, int, int, int, int]:
    """(zoom, x0, x1, y0, y1) of the most detailed tile block covering the extent with ≤ ``max_tiles`` tiles.

    Examples
    --------
    >>> tile_range(120.6, 31.25, 120.67, 31.31, max_tiles=16)[0]
    13
    """
    for z in range(max_zoom, -1, -1):
        x0, y0 = _xy(west, north, z)
        x1, y1 = _xy(east, south, z)
        nx, ny = int(math.floor(x1)) - int(math.floor(x0)) + 1, int(math.floor(y1)) - int(math.floor(y0)) + 1
        if nx * ny <= max_tiles:
            return z, int(math.floor(x0)), int(math.floor(x1)), int(math.floor(y0)), int(math.floor(y1))
    return 0, 0, 0, 0, 0


def _tile_url(spec: TileSpec, z: int, x: int, y: int) -> str:
    subs = spec.subdomains or "a"
    s = subs[(x + y) % len(subs)]
    return spec.url.replace("{s}", s).replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


def _scrub(text: str, url: str) -> str:
    """``text`` with the query of ``url`` (raw and percent-decoded) replaced by ``***``."""
    from urllib.parse import unquote, urlsplit

    query = urlsplit(url).query
    for q in {query, unquote(query)} - {""}:
        text = text.replace(q, "***")
    return text


def _get(session, url: str, *, timeout: float, retries: int) -> bytes:
    import requests

    last: Exception | None = None
    for attempt in range(retries + 1):
        try:
            r = session.get(url, timeout=timeout)
        except requests.RequestException as err:
            # requests puts the whole URL in its message: the query may hold a key (Tianditu tk=...)
            last = ParkscanError(_scrub(f"{type(err).__name__}: {err}", url))
        else:
            if r.status_code == 200 and r.content:
                return r.content
            if r.status_code not in (429, 500, 502, 503, 504):
                raise SourceAPIError.from_response(r, hint="check the basemap key/URL, or use --basemap none")
            last = SourceAPIError.from_response(r)
        time.sleep(min(0.5 * 2 ** attempt, 4.0))
    raise ParkscanError(f"could not fetch basemap tile {url.split('?')[0]}: {last}; use basemap 'none' for offline maps") from last


def fetch_mosaic(extent_wgs84: tuple[float, float, float, float], name_or_spec: str | TileSpec, *, lang: str = "en",
                 max_tiles: int = 36, use_cache: bool = True) -> Mosaic:
    """Fetch and stitch the tiles of basemap ``name_or_spec`` (``osm``, ``tianditu``, ``gaode`` or a TileSpec).

    ``extent_wgs84`` is (west, south, east, north). For ``gaode`` the returned bounds are corrected so the
    GCJ-02 tiles line up with WGS-84 overlays.
    """
    import requests
    from PIL import Image

    from parkscan.aoi.options import OPTIONS, cache_dir

    if isinstance(name_or_spec, TileSpec):
        specs, datum, key = (name_or_spec,), "wgs84", "custom"
    else:
        bm = basemap(name_or_spec, lang=lang)
        specs, datum, key = bm.tiles, bm.datum, bm.name
    if not specs:
        raise ParkscanError("basemap 'none' has no tiles")
    west, south, east, north = extent_wgs84
    if datum != "wgs84":  # request the tiles covering where the extent is drawn in GCJ-02
        gx, gy = shift_lonlat([west, east], [south, north], datum)
        west, east, south, north = float(gx[0]), float(gx[1]), float(gy[0]), float(gy[1])
    z, x0, x1, y0, y1 = tile_range(west, south, east, north, max_tiles=max_tiles, max_zoom=min(s.max_zoom for s in specs))
    cdir = cache_dir() / "tiles" if use_cache else None
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    timeout, retries = float(OPTIONS["http_timeout"]), int(OPTIONS["http_retries"])
    canvas = Image.new("RGBA", ((x1 - x0 + 1) * 256, (y1 - y0 + 1) * 256), (255, 255, 255, 0))
    for spec in specs:
        for ty in range(y0, y1 + 1):
            for tx in range(x0, x1 + 1):
                url = _tile_url(spec, z, tx, ty)
                path = None
                if cdir is not None:
                    path = cdir / key / f"{hashlib.sha1(spec.url.encode()).hexdigest()[:10]}_{z}_{tx}_{ty}.img"
                if path is not None and path.exists():
                    data = path.read_bytes()
                else:
                    data = _get(session, url, timeout=timeout, retries=retries)
                    if path is not None:
                        from parkscan.aoi.atomic import write_bytes

                        write_bytes(path, data)
                try:
                    tile = Image.open(io.BytesIO(data)).convert("RGBA")
                except (OSError, ValueError) as err:
                    raise ParkscanError(f"basemap tile {url.split('?')[0]} is not an image ({err})") from err
                canvas.alpha_composite(tile.resize((256, 256)), ((tx - x0) * 256, (ty - y0) * 256))
    size = 2 * math.pi * _R / 2 ** z
    w = -math.pi * _R + x0 * size
    n = math.pi * _R - y0 * size
    e = -math.pi * _R + (x1 + 1) * size
    s = math.pi * _R - (y1 + 1) * size
    if datum != "wgs84":  # move the mosaic back by the local GCJ-02 offset
        clon, clat = (extent_wgs84[0] + extent_wgs84[2]) / 2, (extent_wgs84[1] + extent_wgs84[3]) / 2
        gx, gy = shift_lonlat([clon], [clat], datum)
        dx = math.radians(float(gx[0]) - clon) * _R
        y_w = _R * math.asinh(math.tan(math.radians(clat)))
        y_g = _R * math.asinh(math.tan(math.radians(float(gy[0]))))
        dy = y_g - y_w
        w, e, s, n = w - dx, e - dx, s - dy, n - dy
    return Mosaic(np.asarray(canvas), (w, s, e, n), z)
