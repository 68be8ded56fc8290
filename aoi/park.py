"""The park: approved and managed boundaries, sub-parks, enterprises, and derived metric geometry.

Geometries are held in WGS-84 (lon, lat). The local metric CRS is derived once from the
centroid (UTM by default, CGCS2000 3-degree Gauss-Krüger on request) and cached.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

import numpy as np
import pyproj
import shapely
from affine import Affine
from shapely.geometry.base import BaseGeometry

from .options import OPTIONS

__all__ = ["Park", "SubPark", "GridSpec", "utm_crs", "gk3_crs"]


def utm_crs(lon: float, lat: float) -> pyproj.CRS:
    """WGS-84 / UTM zone of a point (EPSG:326xx north, 327xx south)."""
    zone = int(math.floor((lon + 180.0) / 6.0)) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def gk3_crs(lon: float) -> pyproj.CRS:
    """CGCS2000 / 3-degree Gauss-Krüger CM zone (EPSG:4534–4554, central meridians 75°E–135°E)."""
    cm = int(round(lon / 3.0)) * 3
    if not 75 <= cm <= 135:
        raise ValueError(f"longitude {lon} is outside the CGCS2000 3-degree Gauss-Krüger zones (73.5°E–136.5°E)")
    return pyproj.CRS.from_epsg(4534 + (cm - 75) // 3)


def _project(transformer: pyproj.Transformer, geom: BaseGeometry) -> BaseGeometry:
    """Project a shapely geometry with a pyproj transformer (vectorised over all coordinates)."""

    def f(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, f)


@dataclass(frozen=True)
class SubPark:
    """One sub-park of a zone ("one zone, many parks")."""

    name: str
    """Name as given in the boundary file's ``subpark`` attribute."""
    geometry: BaseGeometry
    """(Multi)Polygon in WGS-84."""
    role: str = "approved"
    """``approved`` or ``managed``."""


@dataclass(frozen=True)
class GridSpec:
    """A north-up analysis grid in a metric CRS (pixel-is-area, like rasterio)."""

    crs: pyproj.CRS
    """The metric CRS of the grid."""
    transform: Affine
    """Affine transform of the top-left corner."""
    width: int
    """Number of columns."""
    height: int
    """Number of rows."""

    @property
    def res(self) -> float:
        """Pixel size in metres."""
        return float(self.transform.a)

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width)."""
        return (self.height, self.width)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in the grid CRS."""
        left, top = self.transform.c, self.transform.f
        return (left, top + self.transform.e * self.height, left + self.transform.a * self.width, top)

    def coords(self) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre x (width,) and y (height,) coordinates."""
        x = self.transform.c + self.transform.a * (np.arange(self.width) + 0.5)
        y = self.transform.f + self.transform.e * (np.arange(self.height) + 0.5)
        return x, y

    def rowcol(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column indices of metric coordinates (may fall outside the grid)."""
        col = np.floor((np.asarray(x) - self.transform.c) / self.transform.a).astype(int)
        row = np.floor((np.asarray(y) - self.transform.f) / self.transform.e).astype(int)
        return row, col


@dataclass(frozen=True, eq=False)
class Park:
    """An industrial park.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> p = Park(id="P1", name="Demo", approved=box(120.60, 31.30, 120.63, 31.33))
    >>> p.crs.to_epsg()
    32651
    >>> round(p.area_ha()["approved"])
    950
    """

    id: str
    """Stable identifier (from the file, or derived from its name)."""
    name: str
    """Display name (may be Chinese)."""
    approved: BaseGeometry
    """Approved (规划/批复) boundary, (Multi)Polygon in WGS-84."""
    managed: BaseGeometry | None = None
    """Actually managed (托管/实际管理) boundary, when the file gives one."""
    subparks: tuple[SubPark, ...] = ()
    """Sub-parks of a zone with several parks."""
    enterprises: Any = None
    """GeoDataFrame of enterprises (enterprise_id, name, industry, geometry in WGS-84), or None."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """Anything else: source file, datum it was given in, approximate=True for circles, ..."""
    crs_kind: str = "utm"
    """``utm`` or ``gk3`` (CGCS2000 3-degree Gauss-Krüger)."""

    # -- derived geometry -------------------------------------------------------------------
    @cached_property
    def footprint(self) -> BaseGeometry:
        """Union of approved and managed boundaries (WGS-84)."""
        geoms = [self.approved] + ([self.managed] if self.managed is not None else [])
        return shapely.union_all(geoms)

    @cached_property
    def crs(self) -> pyproj.CRS:
        """Local metric CRS derived from the footprint centroid."""
        c = self.footprint.centroid
        return gk3_crs(c.x) if self.crs_kind == "gk3" else utm_crs(c.x, c.y)

    @cached_property
    def _to_local(self) -> pyproj.Transformer:
        return pyproj.Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)

    @cached_property
    def _to_wgs84(self) -> pyproj.Transformer:
        return pyproj.Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)

    def to_local(self, geom: BaseGeometry) -> BaseGeometry:
        """Project a WGS-84 geometry into the local metric CRS."""
        return _project(self._to_local, geom)

    def to_wgs84(self, geom: BaseGeometry) -> BaseGeometry:
        """Project a local metric geometry back to WGS-84."""
        return _project(self._to_wgs84, geom)

    def lonlat_to_xy(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised WGS-84 lon/lat → local metric x/y."""
        return self._to_local.transform(np.asarray(lon, float), np.asarray(lat, float))

    def xy_to_lonlat(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised local metric x/y → WGS-84 lon/lat."""
        return self._to_wgs84.transform(np.asarray(x, float), np.asarray(y, float))

    def area_ha(self) -> dict[str, float | None]:
        """Areas in hectares: approved, managed, managed outside approved, footprint."""
        a = self.to_local(self.approved)
        m = self.to_local(self.managed) if self.managed is not None else None
        return {
            "approved": a.area / 1e4,
            "managed": None if m is None else m.area / 1e4,
            "managed_outside_approved": None if m is None else m.difference(a).area / 1e4,
            "footprint": self.to_local(self.footprint).area / 1e4,
        }

    def ring(self, width_m: float | None = None, *, local: bool = False) -> BaseGeometry:
        """The surrounding ring (default ``OPTIONS['ring_m']``, 3 km) for background comparisons."""
        width_m = OPTIONS["ring_m"] if width_m is None else width_m
        fp = self.to_local(self.footprint)
        ring = fp.buffer(width_m).difference(fp)
        return ring if local else self.to_wgs84(ring)

    def grid(self, res_m: float | None = None, *, ring_m: float | None = 0.0) -> GridSpec:
        """An analysis grid covering the footprint plus ``ring_m`` metres, snapped to ``res_m``."""
        res = float(OPTIONS["grid_m"] if res_m is None else res_m)
        ring_m = OPTIONS["ring_m"] if ring_m is None else ring_m
        minx, miny, maxx, maxy = self.to_local(self.footprint).buffer(ring_m).bounds if ring_m else self.to_local(self.footprint).bounds
        left, bottom = math.floor(minx / res) * res, math.floor(miny / res) * res
        right, top = math.ceil(maxx / res) * res, math.ceil(maxy / res) * res
        return GridSpec(
            crs=self.crs,
            transform=Affine(res, 0.0, left, 0.0, -res, top),
            width=max(1, int(round((right - left) / res))),
            height=max(1, int(round((top - bottom) / res))),
        )

    def with_enterprises(self, enterprises) -> "Park":
        """A copy of the park with an enterprise table attached."""
        return dataclasses.replace(self, enterprises=enterprises)

    def __repr__(self) -> str:
        n = 0 if self.enterprises is None else len(self.enterprises)
        return f"Park(id={self.id!r}, name={self.name!r}, subparks={len(self.subparks)}, enterprises={n})"
