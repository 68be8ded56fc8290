"""Background tiles: none (offline), OpenStreetMap, Tianditu (天地图) and Gaode/AMap (高德, GCJ-02).

Gaode tiles are drawn in the GCJ-02 datum, so when they are chosen every overlay coordinate is shifted
from WGS-84 to GCJ-02 (:func:`shift_geojson`, :func:`shift_lonlat`) to line up with the streets.
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from parkscan.aoi.errors import ParkscanError

__all__ = ["BASEMAPS", "Basemap", "TileSpec", "basemap", "datum_of", "shift_lonlat", "shift_geojson"]

BASEMAPS = ("none", "osm", "tianditu", "gaode")


@dataclass(frozen=True)
class TileSpec:
    """One tile layer."""

    url: str
    """XYZ URL template (may contain the Tianditu key)."""
    attribution: str
    """HTML attribution (trusted, written here)."""
    name: str
    """Name in the layer control."""
    subdomains: str = "abc"
    """Leaflet subdomains."""
    overlay: bool = False
    """Labels layer drawn over the base."""
    max_zoom: int = 18
    """Highest zoom served."""


@dataclass(frozen=True)
class Basemap:
    """A background choice: its tiles and the datum its tiles are drawn in."""

    name: str
    """``none``, ``osm``, ``tianditu`` or ``gaode``."""
    tiles: tuple[TileSpec, ...]
    """Tile layers (base first, then label overlays)."""
    datum: str = "wgs84"
    """``wgs84`` or ``gcj02``: overlays are shifted to this datum."""


_TDT = "https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=%s&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=%s"
_TDT_ATTR = '&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a> (National Platform for Common GeoSpatial Information Services)'
_OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
_GAODE_ATTR = '&copy; <a href="https://www.amap.com/">高德地图 AutoNavi</a> (GCJ-02)'


def basemap(name: str, *, lang: str = "en") -> Basemap:
    """The :class:`Basemap` called ``name``.

    Raises
    ------
    ParkscanError
        For an unknown name, or ``tianditu`` without the ``TIANDITU_KEY`` environment variable.

    Examples
    --------
    >>> basemap("none").tiles
    ()
    >>> basemap("gaode").datum
    'gcj02'
    """
    if name == "none":
        return Basemap("none", ())
    if name == "osm":
        return Basemap("osm", (TileSpec("https://tile.openstreetmap.org/{z}/{x}/{y}.png", _OSM_ATTR, "OpenStreetMap", "abc", max_zoom=19),))
    if name == "tianditu":
        key = os.environ.get("TIANDITU_KEY", "").strip()
        if not key:
            raise ParkscanError(
                "basemap 'tianditu' needs a Tianditu browser key in the TIANDITU_KEY environment variable "
                "(free at https://console.tianditu.gov.cn/); or use --basemap none|osm|gaode"
            )
        vec, label = ("vec", "cva") if lang == "zh" else ("vec", "eva")
        return Basemap(
            "tianditu",
            (
                TileSpec(_TDT % (vec, vec, key), _TDT_ATTR, "天地图 Tianditu", "01234567", max_zoom=18),
                TileSpec(_TDT % (label, label, key), "", "天地图注记 labels", "01234567", overlay=True, max_zoom=18),
            ),
        )
    if name == "gaode":
        style_lang = "zh_cn" if lang == "zh" else "zh_en"
        return Basemap(
            "gaode",
            (TileSpec(f"https://webrd0{{s}}.is.autonavi.com/appmaptile?lang={style_lang}&size=1&scale=1&style=8&x={{x}}&y={{y}}&z={{z}}",
                      _GAODE_ATTR, "高德地图 Gaode", "1234", max_zoom=18),),
            datum="gcj02",
        )
    raise ParkscanError(f"unknown basemap {name!r}; choose one of {', '.join(BASEMAPS)}")


def datum_of(name: str) -> str:
    """Datum the overlays must be in for basemap ``name`` (without building tile URLs)."""
    return "gcj02" if name == "gaode" else "wgs84"


def shift_lonlat(lon: Any, lat: Any, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 lon/lat → ``datum`` (identity for ``wgs84``), vectorised."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if datum == "wgs84":
        return lon, lat
    from parkscan.aoi.datum import convert

    x, y = convert(lon, lat, "wgs84", datum)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _apply(coords: Any, fn) -> Any:
    """Rebuild a nested coordinate list with ``fn`` applied to its (N, 2+) flattening."""
    arr = np.asarray(coords, dtype=float)
    shape = arr.shape
    flat = arr.reshape(-1, shape[-1]).copy()
    flat[:, 0], flat[:, 1] = fn(flat[:, 0], flat[:, 1])
    return flat.reshape(shape).tolist()


def _shift_geometry(geom: dict[str, Any] | None, datum: str) -> dict[str, Any] | None:
    if not geom:
        return geom
    if geom.get("type") == "GeometryCollection":
        geom["geometries"] = [_shift_geometry(g, datum) for g in geom.get("geometries", [])]
        return geom
    coords = geom.get("coordinates")
    if coords is None:
        return geom
    if geom["type"] == "MultiPolygon" or geom["type"] in ("Polygon", "MultiLineString"):
        # ragged: shift ring by ring
        def walk(c, depth):
            if depth == 0:
                return _apply(c, lambda x, y: shift_lonlat(x, y, datum)) if len(c) else c
            return [walk(s, depth - 1) for s in c]

        depth = {"Polygon": 1, "MultiLineString": 1, "MultiPolygon": 2}[geom["type"]]
        geom["coordinates"] = walk(coords, depth)
    elif len(coords):
        geom["coordinates"] = _apply(coords, lambda x, y: shift_lonlat(x, y, datum))
    return geom


def shift_geojson(fc: dict[str, Any], datum: str) -> dict[str, Any]:
    """A deep copy of a FeatureCollection with every coordinate moved from WGS-84 to ``datum``."""
    out = copy.deepcopy(dict(fc))
    if datum == "wgs84":
        return out
    for feat in out.get("features", []):
        feat["geometry"] = _shift_geometry(feat.get("geometry"), datum)
    return out
