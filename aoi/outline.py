"""The outline of mainland China, where the GCJ-02 / BD-09 obfuscation applies.

The outline ships as ``aoi/data/mainland_china.geojson`` (Natural Earth 10m admin-0 ``CHN`` unit,
public domain, simplified to ~0.005°, plus ~30 km of coastal water and the Bohai Sea, nearer to China than to any
neighbour). Hong Kong, Macao and Taiwan are separate admin-0 units in Natural Earth and are
*outside*: their maps use WGS-84. See ``aoi/data/README.md`` for how the file was built.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

__all__ = ["mainland_china", "in_mainland_china", "CHINA_BOUNDS"]

CHINA_BOUNDS: tuple[float, float, float, float] = (73.0, 17.5, 135.5, 54.0)
"""A generous (lon_min, lat_min, lon_max, lat_max) box around mainland China, for quick tests."""


@lru_cache(maxsize=1)
def mainland_china() -> BaseGeometry:
    """The prepared outline of mainland China (WGS-84 polygon) where GCJ-02 applies.

    Examples
    --------
    >>> g = mainland_china()
    >>> 70 < g.bounds[0] < 75 and 53 < g.bounds[3] < 55
    True
    """
    ref = resources.files("parkscan.aoi").joinpath("data", "mainland_china.geojson")
    fc = json.loads(ref.read_text(encoding="utf-8"))
    geom = shapely.union_all([shape(f["geometry"]) for f in fc["features"]])
    shapely.prepare(geom)
    return geom


def in_mainland_china(lon: Any, lat: Any) -> Any:
    """Whether points fall in mainland China (where GCJ-02 obfuscation applies).

    Parameters
    ----------
    lon, lat : float or array_like
        Degrees (WGS-84 or GCJ-02: the few hundred metres between them only matter right at
        the outline).

    Returns
    -------
    bool or numpy.ndarray of bool
        A bool for scalar input, otherwise an array of the broadcast shape; NaN gives False.

    Examples
    --------
    >>> in_mainland_china(114.118, 22.545), in_mainland_china(114.117, 22.502)  # Shenzhen, Sheung Shui (HK)
    (True, False)
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    xb, yb = np.broadcast_arrays(x, y)
    geom = mainland_china()
    minx, miny, maxx, maxy = geom.bounds
    with np.errstate(invalid="ignore"):
        box = (xb >= minx) & (xb <= maxx) & (yb >= miny) & (yb <= maxy)
    out = np.zeros(xb.shape, dtype=bool)
    if box.any():
        out[box] = shapely.contains_xy(geom, xb[box], yb[box])
    return bool(out) if out.ndim == 0 else out
