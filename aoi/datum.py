"""Geodetic datums used for Chinese maps: WGS-84, CGCS2000, GCJ-02 and BD-09.

* **WGS-84** (EPSG:4326) — GPS, Sentinel, OpenStreetMap, Tianditu uses CGCS2000 which is within
  a few centimetres of it.
* **CGCS2000** (EPSG:4490) — China's official geodetic datum. Its difference from WGS-84 is
  sub-metre (practically identity); it is converted with pyproj (``always_xy``, because EPSG:4490
  is declared lat, lon).
* **GCJ-02** ("Mars coordinates") — the legally required obfuscation of mainland Chinese maps
  (Amap/Gaode, Tencent, Google China): a smooth, non-linear shift of 100–700 m computed on the
  Krasovsky ellipsoid.
* **BD-09** — Baidu's further rotation/offset of GCJ-02.

The inverses (GCJ-02 → WGS-84, BD-09 → WGS-84) have no closed form; the usual one-step formulas
err by up to a few metres. Here they are solved by fixed-point iteration to better than 1e-10
degrees (0.01 mm), far below the 1 cm goal.

Where the shift applies
-----------------------
The obfuscation is a rule of *mainland* China. Points outside it are returned unshifted. The
decision uses a real outline (``aoi/data/mainland_china.geojson``, from Natural Earth's
public-domain 10m admin-0 ``CHN`` unit plus ~30 km of coastal water and the Bohai Sea, split from neighbouring
coasts by nearest land), not a bounding box. **Hong Kong, Macao and Taiwan are outside**: their
official and commercial maps use WGS-84 (HK1980/TWD97 grids aside), and Natural Earth keeps them
as admin-0 units of their own, so Sheung Shui (HK) is not shifted while Shenzhen across the
Shenzhen River is. Seoul, Hanoi and Ulaanbaatar are outside too.

The test is always made on the WGS-84 point: forward, on the input; inverse, on the solution
(a shifted point whose WGS-84 solution falls outside the outline is taken as never shifted). So
WGS-84 → GCJ-02 → WGS-84 is exact everywhere, including right at the outline.

Examples
--------
>>> from parkscan.aoi.datum import convert
>>> lon, lat = convert(116.397, 39.909, "wgs84", "gcj02")
>>> round(lon - 116.397, 5), round(lat - 39.909, 5)
(0.00624, 0.0014)
>>> x, y = convert(lon, lat, "gcj02", "wgs84")
>>> abs(x - 116.397) < 1e-9 and abs(y - 39.909) < 1e-9
True
>>> convert(114.17, 22.32, "wgs84", "gcj02")  # Hong Kong: unshifted
(114.17, 22.32)
"""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import numpy as np
import pyproj

from .errors import AOIError
from .outline import in_mainland_china, mainland_china

__all__ = ["DATUMS", "convert", "in_mainland_china", "mainland_china", "normalize_datum", "shift_m"]

log = logging.getLogger(__name__)

DATUMS: tuple[str, ...] = ("wgs84", "cgcs2000", "gcj02", "bd09")
"""The datum names :func:`convert` accepts (case-insensitive, a few aliases too)."""

_ALIASES = {
    "wgs84": "wgs84", "wgs-84": "wgs84", "wgs_84": "wgs84", "epsg:4326": "wgs84", "4326": "wgs84", "gps": "wgs84",
    "cgcs2000": "cgcs2000", "cgcs-2000": "cgcs2000", "epsg:4490": "cgcs2000", "4490": "cgcs2000",
    "国家2000": "cgcs2000", "2000": "cgcs2000",
    "gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "mars": "gcj02", "火星": "gcj02", "火星坐标": "gcj02",
    "amap": "gcj02", "gaode": "gcj02", "高德": "gcj02", "tencent": "gcj02", "腾讯": "gcj02",
    "bd09": "bd09", "bd-09": "bd09", "bd09ll": "bd09", "baidu": "bd09", "百度": "bd09",
}

# Krasovsky 1940 ellipsoid, as in the published GCJ-02 algorithm
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
# Stop when the residual |forward(x) - target| is below this; the step just taken then leaves an
# error of at most (Jacobian deviation, <= 0.02) x residual = 2e-11 deg (a few micrometres).
_TOL_DEG = 1e-9
_MAX_ITER = 30


def normalize_datum(name: str) -> str:
    """Canonical datum key (``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09``) of a user-given name.

    Exact aliases (``"GCJ-02"``, ``"EPSG:4490"``, ``"百度"`` ...) first, then descriptive labels
    containing one (``"高德/火星坐标(GCJ-02)"``, ``"WGS84坐标系"``).

    Examples
    --------
    >>> normalize_datum("高德坐标"), normalize_datum("BD-09 (百度)"), normalize_datum("WGS84坐标系")
    ('gcj02', 'bd09', 'wgs84')

    Raises
    ------
    AOIError
        If the name is not recognised.
    """
    key = str(name).strip().lower().replace(" ", "")
    if key in _ALIASES:
        return _ALIASES[key]
    # descriptive labels from vendor files: "百度坐标", "高德/火星坐标(GCJ-02)", "WGS84坐标系", "CGCS2000大地坐标"
    for words, datum in ((("bd09", "bd-09", "百度", "baidu"), "bd09"),
                         (("gcj", "火星", "高德", "腾讯", "amap", "gaode"), "gcj02"),
                         (("cgcs", "国家2000", "2000国家"), "cgcs2000"),
                         (("wgs", "gps", "4326"), "wgs84")):
        if any(w in key for w in words):
            return datum
    raise AOIError(f"unknown datum {name!r}: use one of {', '.join(DATUMS)}")


# --- GCJ-02 / BD-09 forward formulas ------------------------------------------------------

def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84 in degrees (applied everywhere; masking is the caller's job)."""
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj_approx(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 0.0065, lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _wgs_to_bd(lon, lat):
    return _gcj_to_bd(*_wgs_to_gcj(lon, lat))


def _invert(forward, lon: np.ndarray, lat: np.ndarray, x0: np.ndarray, y0: np.ndarray):
    """Solve ``forward(x, y) == (lon, lat)`` by fixed-point iteration from ``(x0, y0)``.

    The shift's Jacobian is ~1e-3 (GCJ-02) to ~2e-2 (BD-09) of the identity, so each step gains
    2-3 digits; points whose residual fell below ``_TOL_DEG`` (after which the step just taken
    leaves at most ~2e-11 degrees of error) are dropped from further steps.
    """
    x, y = x0.copy(), y0.copy()
    act = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    for _ in range(_MAX_ITER):
        if act.size == 0:
            break
        fx, fy = forward(x[act], y[act])
        ex, ey = fx - lon[act], fy - lat[act]
        x[act] -= ex
        y[act] -= ey
        act = act[np.maximum(np.abs(ex), np.abs(ey)) >= _TOL_DEG]
    if act.size:  # pragma: no cover - the map is a strong contraction; never seen in practice
        log.warning("datum inverse: %d point(s) did not converge below %.1e deg", act.size, _TOL_DEG)
    return x, y


def _gcj_to_wgs(lon, lat):
    dlon, dlat = _gcj_delta(lon, lat)
    return _invert(_wgs_to_gcj, lon, lat, lon - dlon, lat - dlat)


def _bd_to_wgs(lon, lat):
    gx, gy = _bd_to_gcj_approx(lon, lat)
    dlon, dlat = _gcj_delta(gx, gy)
    return _invert(_wgs_to_bd, lon, lat, gx - dlon, gy - dlat)


@lru_cache(maxsize=4)
def _cgcs_transformer(to_cgcs: bool) -> pyproj.Transformer:
    a, b = ("EPSG:4326", "EPSG:4490") if to_cgcs else ("EPSG:4490", "EPSG:4326")
    return pyproj.Transformer.from_crs(a, b, always_xy=True)


def _to_wgs(lon, lat, src: str):
    if src == "wgs84":
        return lon, lat
    if src == "cgcs2000":
        return _cgcs_transformer(False).transform(lon, lat)
    # Invert where the WGS-84 answer would lie in mainland China (the forward rule), so a round
    # trip is exact everywhere; elsewhere the point was never shifted and comes back as given.
    minx, miny, maxx, maxy = mainland_china().bounds
    pad = 0.03  # > the largest GCJ-02 + BD-09 shift in degrees
    with np.errstate(invalid="ignore"):
        near = (lon >= minx - pad) & (lon <= maxx + pad) & (lat >= miny - pad) & (lat <= maxy + pad)
    x, y = lon.copy(), lat.copy()
    if near.any():
        fn = _gcj_to_wgs if src == "gcj02" else _bd_to_wgs
        wx, wy = fn(lon[near], lat[near])
        inside = in_mainland_china(wx, wy)
        x[near] = np.where(inside, wx, lon[near])
        y[near] = np.where(inside, wy, lat[near])
    return x, y


def _from_wgs(lon, lat, dst: str):
    if dst == "wgs84":
        return lon, lat
    if dst == "cgcs2000":
        return _cgcs_transformer(True).transform(lon, lat)
    inside = in_mainland_china(lon, lat)
    x, y = lon.copy(), lat.copy()
    if inside.any():
        fn = _wgs_to_gcj if dst == "gcj02" else _wgs_to_bd
        x[inside], y[inside] = fn(lon[inside], lat[inside])
    return x, y


def convert(lon: Any, lat: Any, src: str, dst: str) -> tuple[Any, Any]:
    """Convert longitudes/latitudes between datums.

    Parameters
    ----------
    lon, lat : float or array_like
        Coordinates in degrees in datum ``src`` (broadcast together).
    src, dst : {"wgs84", "cgcs2000", "gcj02", "bd09"}
        Datums (aliases such as ``"GCJ-02"``, ``"baidu"``, ``"EPSG:4490"`` are accepted).

    Returns
    -------
    (lon, lat)
        Floats when both inputs were scalars, otherwise float numpy arrays of the broadcast
        shape. Points outside mainland China (see :func:`in_mainland_china`) come back
        unshifted by the GCJ-02/BD-09 steps; NaNs stay NaN.

    Raises
    ------
    AOIError
        For an unknown datum name.

    Examples
    --------
    >>> import numpy as np
    >>> lon, lat = convert(np.array([121.47, 126.98]), np.array([31.23, 37.57]), "wgs84", "bd09")
    >>> bool(lon[0] != 121.47), float(lon[1])   # Shanghai shifted, Seoul not
    (True, 126.98)
    """
    src, dst = normalize_datum(src), normalize_datum(dst)
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    x, y = np.broadcast_arrays(np.array(lon, dtype=float), np.array(lat, dtype=float))
    x, y = np.array(x, dtype=float).ravel(), np.array(y, dtype=float).ravel()
    shape_ = np.broadcast(np.asarray(lon), np.asarray(lat)).shape
    if src != dst:
        x, y = _to_wgs(x, y, src)
        x, y = _from_wgs(np.asarray(x, float), np.asarray(y, float), dst)
    x, y = np.asarray(x, float).reshape(shape_), np.asarray(y, float).reshape(shape_)
    if scalar:
        return float(x), float(y)
    return x, y


def shift_m(lon: Any, lat: Any, src: str = "wgs84", dst: str = "gcj02") -> np.ndarray:
    """Ground distance in metres between a point and its conversion (for QA and reports)."""
    x0 = np.asarray(lon, float)
    y0 = np.asarray(lat, float)
    x1, y1 = convert(x0, y0, src, dst)
    geod = pyproj.Geod(ellps="WGS84")
    _, _, d = geod.inv(x0, y0, x1, y1)
    return np.asarray(d)
