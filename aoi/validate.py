"""Checks of user geometry: coordinate sanity (swapped, projected), polygon repair, areas.

Every failure is an :class:`~parkscan.aoi.errors.AOIError` whose message names the file and the
feature and says what to do; repairs emit :class:`~parkscan.aoi.errors.GeometryRepairedWarning`.
"""
from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pyproj
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from .errors import AOIError, GeometryRepairedWarning
from .options import OPTIONS
from .outline import in_mainland_china

__all__ = [
    "check_lonlat_values",
    "looks_swapped",
    "polygonal",
    "clean_polygon",
    "geodesic_area_m2",
    "check_park_size",
    "check_in_china",
]


@lru_cache(maxsize=1)
def _geod() -> pyproj.Geod:
    return pyproj.Geod(ellps="WGS84")


def looks_swapped(lon: np.ndarray, lat: np.ndarray) -> bool:
    """True when (lon, lat) look like (lat, lon): swapping puts them in mainland China but they are not."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    if lon.size == 0:
        return False
    if np.all(np.abs(lat) <= 90) and np.mean(in_mainland_china(lon, lat)) > 0.5:
        return False
    if np.any(np.abs(lon) > 90):  # then lon cannot be a latitude
        return False
    return bool(np.mean(in_mainland_china(lat, lon)) > 0.5)


def check_lonlat_values(lon, lat, where: str) -> None:
    """Raise when coordinates said to be geographic are swapped or clearly projected (metres).

    Parameters
    ----------
    lon, lat : array_like
        Coordinates as read (x, y).
    where : str
        "file, feature" text for the message.
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    finite = np.isfinite(lon) & np.isfinite(lat)
    if not finite.all():
        raise AOIError(f"{where}: has NaN or infinite coordinates; fix the geometry")
    if looks_swapped(lon, lat):
        raise AOIError(
            f"{where}: coordinates look like (lat, lon) — e.g. x={lon[0]:.4f}, y={lat[0]:.4f}; "
            "swap them to (lon, lat) order (GeoJSON, WKT and KML are lon first)")
    if np.any(np.abs(lon) > 180) or np.any(np.abs(lat) > 90):
        big = max(float(np.max(np.abs(lon))), float(np.max(np.abs(lat))))
        if big > 1000:
            shown = f"{big:,.0f}" if big < 1e12 else f"{big:.3g}"
            raise AOIError(
                f"{where}: coordinates look projected (values up to {shown}, metres?) but the file has no CRS "
                "(or claims lon/lat); add the CRS (a .prj file, or export as GeoPackage / GeoJSON in WGS-84)")
        raise AOIError(
            f"{where}: coordinates outside lon -180..180 / lat -90..90 (max |x|={np.max(np.abs(lon)):.3f}, "
            f"|y|={np.max(np.abs(lat)):.3f}); check the coordinate order and the CRS")


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygonal part of a geometry (Polygon/MultiPolygon), or an empty Polygon."""
    if geom is None or geom.is_empty:
        return Polygon()
    if isinstance(geom, (Polygon, MultiPolygon)):
        return geom
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, (Polygon, MultiPolygon)) and not p.is_empty]
    if not parts:
        return Polygon()
    return shapely.union_all(parts) if len(parts) > 1 else parts[0]


def geodesic_area_m2(geom: BaseGeometry) -> float:
    """Area on the WGS-84 ellipsoid in square metres (any size, no projection distortion)."""
    if geom is None or geom.is_empty:
        return 0.0
    area, _ = _geod().geometry_area_perimeter(geom)
    return abs(float(area))


def clean_polygon(geom: BaseGeometry | None, where: str) -> BaseGeometry:
    """Validate one boundary geometry in WGS-84 lon/lat; repair self-intersections.

    Raises
    ------
    AOIError
        Empty, non-polygonal or zero-area geometry.
    """
    if geom is None or geom.is_empty:
        raise AOIError(f"{where}: the geometry is empty; draw the boundary polygon or delete the feature")
    geom = shapely.force_2d(geom)
    kinds = {p.geom_type for p in shapely.get_parts(geom)}
    if not kinds & {"Polygon", "MultiPolygon"}:
        kind = "/".join(sorted(kinds))
        raise AOIError(f"{where}: is a {kind}, not a polygon; a park boundary must be a (multi)polygon "
                       "(close the line into a polygon in your GIS)")
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        fixed = polygonal(shapely.make_valid(geom))
        if fixed.is_empty or geodesic_area_m2(fixed) < 1.0:
            raise AOIError(f"{where}: the polygon has zero area ({reason}); draw a real boundary")
        warnings.warn(f"{where}: invalid polygon ({reason}) repaired with make_valid; check the result",
                      GeometryRepairedWarning, stacklevel=3)
        geom = fixed
    else:
        geom = polygonal(geom)
    if geodesic_area_m2(geom) < 1.0:
        raise AOIError(f"{where}: the polygon has zero area (all points on a line?); draw a real boundary")
    return geom


def check_park_size(geom: BaseGeometry, where: str) -> float:
    """Raise if a boundary is larger than ``OPTIONS['max_park_km2']``; returns its area in km²."""
    km2 = geodesic_area_m2(geom) / 1e6
    limit = OPTIONS["max_park_km2"]
    if km2 > limit:
        raise AOIError(
            f"{where}: the boundary covers {km2:,.0f} km², more than a park can be (limit {limit:,.0f} km²); "
            "check it is the park and not a province, or raise the limit with set_options(max_park_km2=...)")
    return km2


def check_in_china(lon, lat, datum: str, where: str, *, max_deg: float = 0.5) -> None:
    """Raise when coordinates given in a Chinese obfuscated datum lie far outside mainland China.

    "Far" is more than ``max_deg`` degrees (~50 km) from the mainland outline: points in Hong Kong,
    Macao or just across a land border are accepted (and, being outside, left unshifted).
    """
    lon, lat = np.asarray(lon, float).ravel(), np.asarray(lat, float).ravel()
    if not lon.size or np.any(in_mainland_china(lon, lat)):
        return
    from .outline import mainland_china

    d = shapely.distance(mainland_china(), shapely.multipoints(np.column_stack([lon, lat])))
    if d > max_deg:
        raise AOIError(
            f"{where}: coordinates (e.g. {lon[0]:.4f}, {lat[0]:.4f}) are far outside mainland China but the datum is "
            f"{datum}; {datum} is only used in mainland China, so give --datum wgs84 (or fix the coordinates)")
