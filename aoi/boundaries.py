"""Reading park boundaries: :func:`read_park` (one park) and :func:`read_parks` (a batch file).

Attributes honoured (case-insensitive, English or Chinese):

* ``role`` / ``角色`` / ``范围`` / ``边界类型``: ``approved`` (批复, 规划, 审批, 核准) or ``managed``
  (托管, 实际管理, 管理, 管辖, 代管); missing or empty means approved;
* ``subpark`` / ``sub_park`` / ``子园区`` / ``分园`` / ``片区``: features sharing a value form one sub-park;
* ``name`` / ``名称`` / ``园区名称``: the park name (else the file stem); ``id`` / ``park_id`` / ``编号``.

In a GeoPackage with several layers (or a KML with folders) a layer/folder named like a role
(``approved``, ``托管范围`` ...) gives that role to its features when they have no ``role``.
"""
from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from ._formats import read_features
from ._tables import find_column, norm_header, read_table
from .datum import convert, normalize_datum
from .errors import AOIError
from .park import Park, SubPark, gk3_crs, utm_crs
from .validate import check_in_china, check_lonlat_values, check_park_size, clean_polygon

__all__ = ["read_park", "read_parks", "role_of", "ROLE_WORDS"]

log = logging.getLogger(__name__)

ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "approved": ("approved", "approve", "planned", "plan", "official", "批复", "规划", "审批", "核准", "批准", "批复范围",
                 "规划范围", "批复边界", "规划边界"),
    "managed": ("managed", "manage", "management", "actual", "托管", "实际管理", "管理", "管辖", "代管", "托管范围",
                "实际管理范围", "管理范围", "托管边界"),
}
_ROLE_COLS = ("role", "角色", "范围", "范围类型", "边界类型")
_ROLE_COLS_LOOSE = ("type", "类型", "boundary", "边界", "category")  # used only when every value is a role word
_TABLE_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xlsm")
_SUBPARK_COLS = ("subpark", "sub_park", "sub-park", "子园区", "分园", "分园区", "片区", "园中园")
_ID_COLS = ("park_id", "parkid", "id", "编号", "园区编号", "代码", "code")


def role_of(value: Any) -> str | None:
    """Canonical role of an attribute value: ``approved``, ``managed`` or None (unrecognised/empty)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "approved"
    s = norm_header(value)
    if not s:
        return "approved"
    for role, words in ROLE_WORDS.items():
        if s in {norm_header(w) for w in words}:
            return role
    for role, words in ROLE_WORDS.items():  # "托管区域", "approved boundary", ...
        if any(norm_header(w) in s for w in words if len(norm_header(w)) >= 2):
            return role
    return None


def _slug(text: str) -> str:
    s = re.sub(r"[^\w\-]+", "-", str(text), flags=re.U).strip("-")
    return s or "park"


def _label(path: Path, i: int | None, name: Any = None) -> str:
    if i is None:
        return str(path)
    nm = f" ({name})" if isinstance(name, str) and name.strip() else ""
    return f"{path}, feature {i + 1}{nm}"


def _single_value(gdf: pd.DataFrame, cols: tuple[str, ...]) -> str | None:
    col = find_column(gdf.columns, cols)
    if col is None:
        return None
    vals = [str(v).strip() for v in gdf[col].dropna().unique() if str(v).strip()]
    return vals[0] if len(set(vals)) == 1 else None


def _vertex_xy(geoms) -> tuple[np.ndarray, np.ndarray]:
    xy = shapely.get_coordinates(np.asarray(geoms, dtype=object))
    return xy[:, 0], xy[:, 1]


def _to_wgs84(gdf: gpd.GeoDataFrame, path: Path, datum: str) -> gpd.GeoDataFrame:
    """Coordinate checks, reprojection to WGS-84 and datum conversion of every feature."""
    crs = gdf.crs
    if crs is None or crs.is_geographic:
        for i, g, nm in zip(gdf["_idx"], gdf.geometry, gdf["_name"]):
            if g is None or g.is_empty:
                continue
            x, y = _vertex_xy([g])
            check_lonlat_values(x, y, _label(path, i, nm))
        if crs is not None and not crs.equals(pyproj.CRS.from_epsg(4326)):
            gdf = gdf.to_crs(4326)
        elif crs is None:
            gdf = gdf.set_crs(4326)
    else:
        x, y = _vertex_xy(gdf.geometry[~gdf.geometry.is_empty & gdf.geometry.notna()])
        if x.size and np.all(np.abs(x) <= 180) and np.all(np.abs(y) <= 90):
            raise AOIError(f"{path}: the coordinates look like lon/lat degrees (e.g. {x[0]:.4f}, {y[0]:.4f}) but the file "
                           f"declares the projected CRS {crs.name!r}; fix the .prj / CRS (EPSG:4326 for lon/lat)")
        gdf = gdf.to_crs(4326)
        x, y = _vertex_xy(gdf.geometry[~gdf.geometry.is_empty & gdf.geometry.notna()])
        check_lonlat_values(x, y, f"{path} (reprojected from {crs.name})")
    if datum in ("gcj02", "bd09"):
        x, y = _vertex_xy(gdf.geometry[gdf.geometry.notna()])
        check_in_china(x, y, datum, str(path))

        def conv(xy: np.ndarray) -> np.ndarray:
            lon, lat = convert(xy[:, 0], xy[:, 1], datum, "wgs84")
            return np.column_stack([lon, lat])

        gdf = gdf.set_geometry(shapely.transform(gdf.geometry.values, conv))
    elif datum == "cgcs2000":
        gdf = gdf.set_crs(4490, allow_override=True).to_crs(4326)
    return gdf


def _prepare(gdf: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """Attach ``_idx``, ``_name``, ``_role`` and ``_subpark`` columns from the attributes."""
    gdf = gdf.reset_index(drop=True).copy()
    gdf["_idx"] = np.arange(len(gdf))
    name_col = find_column(gdf.columns, ("name", "名称", "园区名称", "park_name", "名字"))
    gdf["_name"] = gdf[name_col].astype(object).where(gdf[name_col].notna(), None) if name_col is not None else None
    role_col = find_column(gdf.columns, _ROLE_COLS)
    if role_col is None:
        loose = find_column(gdf.columns, _ROLE_COLS_LOOSE)
        if loose is not None and all(role_of(v) is not None for v in gdf[loose]):
            role_col = loose
    layers = gdf["_layer"] if "_layer" in gdf.columns else [None] * len(gdf)
    layer_roles = [role_of(v) if isinstance(v, str) and v.strip() else None for v in layers]
    roles, problems = [], []
    for k in range(len(gdf)):
        raw = gdf[role_col].iloc[k] if role_col is not None else None
        problem = None
        if _blank(raw) and layer_roles[k]:
            r = layer_roles[k]
        else:
            r = role_of(raw)
            if r is None:  # reported when the park is built, so one bad park does not sink a batch
                problem = (f"{_label(path, k, gdf['_name'].iloc[k])}: {role_col} is {raw!r}; "
                           "use approved (批复/规划) or managed (托管/实际管理)")
        roles.append(r)
        problems.append(problem)
    gdf["_role_problem"] = problems
    gdf["_role"] = roles
    sp_col = find_column(gdf.columns, _SUBPARK_COLS)
    if sp_col is not None:
        gdf["_subpark"] = [None if v is None or (isinstance(v, float) and np.isnan(v)) or not str(v).strip()
                           else str(v).strip() for v in gdf[sp_col]]
    else:
        gdf["_subpark"] = None
    return gdf


def _plain(v: Any) -> Any:
    """A JSON-friendly attribute value (numpy scalars to Python, dates to ISO text, anything else to str)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, (str, bool, int, float)):
        return v
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def _common_attributes(gdf: pd.DataFrame) -> dict[str, Any]:
    """Attributes with one value over all features of a park (geometry and helper columns left out)."""
    out: dict[str, Any] = {}
    geom = gdf.geometry.name
    cols = [c for c in gdf.columns if not str(c).startswith("_") and c != geom]
    for c, values in zip(cols, zip(*gdf[cols].itertuples(index=False, name=None))) if cols else ():
        try:
            vals = {_plain(v) for v in values if not _blank(v) and not (v is pd.NA or v is pd.NaT)}
        except TypeError:  # unhashable values (lists): not a simple attribute
            continue
        if len(vals) == 1:
            out[str(c)] = vals.pop()
    return out


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())


def _union(geoms: list[BaseGeometry]) -> BaseGeometry:
    return geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)


def _build(gdf: gpd.GeoDataFrame, path: Path, fmt: str, *, datum: str, id: str | None, name: str | None,
           crs_kind: str) -> Park:
    """Validate one park's features (already with ``_prepare`` columns) and build the Park."""
    bad_role = [m for m in gdf["_role_problem"] if isinstance(m, str)]
    if bad_role:
        raise AOIError(bad_role[0])
    gdf = _to_wgs84(gdf, path, datum)
    cleaned = [clean_polygon(g, _label(path, i, nm)) for i, g, nm in zip(gdf["_idx"], gdf.geometry, gdf["_name"])]
    gdf = gdf.set_geometry(gpd.GeoSeries(cleaned, index=gdf.index, crs=4326))
    appr = gdf[gdf["_role"] == "approved"]
    mgd = gdf[gdf["_role"] == "managed"]
    if appr.empty:
        raise AOIError(f"{path}: every feature has role managed; mark the approved (批复/规划) boundary "
                       "with role=approved (features without a role are approved)")
    approved = _union(list(appr.geometry))
    managed = _union(list(mgd.geometry)) if not mgd.empty else None
    check_park_size(approved, str(path))
    if managed is not None:
        check_park_size(managed, f"{path} (managed boundary)")
    subparks = []
    if gdf["_subpark"].notna().any():
        for (sp, role), grp in gdf.groupby([gdf["_subpark"].fillna(""), "_role"], sort=False):
            subparks.append(SubPark(name=sp or "(unnamed)", geometry=_union(list(grp.geometry)), role=role))
    pname = name or _single_value(gdf, ("park_name", "parkname", "园区名称", "园区")) or \
        _single_value(gdf, ("name", "名称")) or _single_value(gdf, ("_doc_name",)) or path.stem
    pid = id or _single_value(gdf, _ID_COLS) or _slug(pname if pname != path.stem else path.stem)
    if crs_kind not in ("utm", "gk3"):
        raise AOIError(f"crs_kind {crs_kind!r} is not known; use 'utm' or 'gk3'")
    if crs_kind == "gk3":
        try:
            gk3_crs(approved.centroid.x)
        except ValueError as err:
            raise AOIError(f"{path}: {err}; use crs_kind='utm'") from err
    meta = {
        "source": str(path),
        "format": fmt,
        "datum": datum,
        "n_features": int(len(gdf)),
        "feature_names": [n for n in gdf["_name"] if isinstance(n, str)],
    }
    attrs = _common_attributes(gdf)
    meta["attributes"] = attrs
    for k, v in attrs.items():  # e.g. per-park input paths of a batch file (enterprises, mobile, ...)
        meta.setdefault(k, v)
    return Park(id=str(pid), name=str(pname), approved=approved, managed=managed, subparks=tuple(subparks),
                metadata=meta, crs_kind=crs_kind)


def read_park(path: str | Path, *, datum: str = "wgs84", id: str | None = None, name: str | None = None,
              crs_kind: str = "utm") -> Park:
    """Read a park boundary file into a :class:`~parkscan.aoi.park.Park`.

    Parameters
    ----------
    path : str or Path
        GeoJSON, GeoPackage (all layers), Shapefile (``.shp``, a folder with one, or ``.zip``),
        KML/KMZ, or WKT text (``.wkt``/``.txt``: one geometry, or one per line, optionally ``name;WKT``).
    datum : {"wgs84", "cgcs2000", "gcj02", "bd09"}
        Datum of the lon/lat coordinates (files in a projected CRS are reprojected first).
        GCJ-02/BD-09 coordinates are converted to WGS-84 with :func:`parkscan.aoi.datum.convert`.
    id, name : str, optional
        Override the id / name found in the attributes (``id``/``park_id``, ``name``/``名称``)
        or derived from the file name.
    crs_kind : {"utm", "gk3"}
        Local metric CRS: UTM zone of the centroid, or CGCS2000 3° Gauss-Krüger zone.

    Returns
    -------
    Park
        ``approved`` = union of the approved features, ``managed`` = union of managed ones (or None),
        ``subparks`` = one entry per (subpark, role) when a ``subpark`` attribute exists.

    Raises
    ------
    AOIError
        With a one-line message naming the file (and feature) and what to do: missing or unreadable
        file, no features, empty/zero-area/non-polygon geometry, (lat, lon) order, projected
        coordinates without CRS, a boundary larger than ``OPTIONS['max_park_km2']``, GCJ-02/BD-09
        coordinates outside China.

    Warns
    -----
    GeometryRepairedWarning
        When a self-intersecting polygon was repaired with ``shapely.make_valid``.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "苏州园区.geojson"
    >>> ring = [[120.60, 31.30], [120.63, 31.30], [120.63, 31.33], [120.60, 31.33], [120.60, 31.30]]
    >>> _ = f.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature",
    ...     "properties": {"名称": "示范园区"}, "geometry": {"type": "Polygon", "coordinates": [ring]}}]}))
    >>> park = read_park(f)
    >>> park.name, round(park.area_ha()["approved"])
    ('示范园区', 950)
    """
    path = Path(path)
    datum = normalize_datum(datum)
    if path.suffix.lower() in _TABLE_SUFFIXES:  # a one-row park table (point + area)
        parks = _read_park_points(path, datum=datum, crs_kind=crs_kind)
        if len(parks) != 1:
            raise AOIError(f"{path}: holds {len(parks)} parks; read it with read_parks (parkscan batch) "
                           "or give one park's boundary file")
        park = parks[0][1]
        if isinstance(park, AOIError):
            raise park
        return park if id is None and name is None else dataclasses.replace(
            park, id=id or park.id, name=name or park.name)
    gdf, fmt = read_features(path)
    gdf = _prepare(gdf, path)
    park = _build(gdf, path, fmt, datum=datum, id=id, name=name, crs_kind=crs_kind)
    log.info("read park %s (%s) from %s: %d feature(s)", park.id, park.name, path, len(gdf))
    return park


def read_parks(path: str | Path, *, datum: str = "wgs84", crs_kind: str = "utm") -> list[tuple[str, Park | AOIError]]:
    """Read a batch file of many parks; one broken park does not fail the others.

    Parameters
    ----------
    path : str or Path
        A boundary file (as for :func:`read_park`) where features sharing an ``id``/``park_id``
        (else a ``name``/``名称``) value form one park — each feature is its own park when there is
        neither — or a CSV/XLSX table of park points with the approved area (columns ``id``,
        ``name``/``名称``, ``lon``/``经度``, ``lat``/``纬度`` and ``area_ha``/``面积(公顷)`` or
        ``area_km2``/``面积(平方公里)``), each becoming a circle of that area in the local metric
        CRS with ``metadata["approximate"] = True``.
    datum, crs_kind
        As for :func:`read_park`.

    Returns
    -------
    list of (park_id, Park or AOIError)
        In file order. A park that fails validation is returned as its ``AOIError`` (never raised).

    Raises
    ------
    AOIError
        Only when the file as a whole cannot be read (missing, not a geo file or table).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "parks.csv"
    >>> _ = f.write_text("id,名称,经度,纬度,面积(公顷)\\nA,甲园区,120.6,31.3,500\\nB,乙园区,,31.3,200\\n", encoding="utf-8")
    >>> for pid, park in read_parks(f):
    ...     print(pid, type(park).__name__)
    A Park
    B AOIError
    """
    path = Path(path)
    datum = normalize_datum(datum)
    if path.suffix.lower() in _TABLE_SUFFIXES:
        return _read_park_points(path, datum=datum, crs_kind=crs_kind)
    gdf, fmt = read_features(path)
    gdf = _prepare(gdf, path)
    key = find_column(gdf.columns, ("park_id", "parkid", "id", "编号", "园区编号"))
    if key is None:
        key = find_column(gdf.columns, ("park_name", "园区名称", "name", "名称"))
    if key is None:
        groups = [(f"{_slug(path.stem)}-{i + 1}", gdf.iloc[[i]]) for i in range(len(gdf))]
    else:
        ids = gdf[key].astype(object).where(gdf[key].notna(), None)
        ids = [str(v).strip() if v is not None and str(v).strip() else f"{_slug(path.stem)}-{i + 1}"
               for i, v in enumerate(ids)]
        gdf["_pid"] = ids
        groups = [(k, g) for k, g in gdf.groupby("_pid", sort=False)]
    out: list[tuple[str, Park | AOIError]] = []
    for pid, grp in groups:
        nm = _single_value(grp, ("park_name", "园区名称", "name", "名称"))
        try:
            out.append((pid, _build(grp, path, fmt, datum=datum, id=pid, name=nm or pid, crs_kind=crs_kind)))
        except AOIError as err:
            log.warning("park %s in %s: %s", pid, path, err)
            out.append((pid, err))
    return out


def _num(v: Any) -> float | None:
    try:
        f = float(str(v).strip().replace(",", ""))
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


_POINT_COLS = {
    "id": ("park_id", "id", "编号", "园区编号", "代码"),
    "name": ("park_name", "name", "名称", "园区名称", "园区"),
    "lon": ("lon", "lng", "longitude", "经度", "x"),
    "lat": ("lat", "latitude", "纬度", "y"),
    "ha": ("area_ha", "面积公顷", "面积", "批复面积", "规划面积", "hectares", "ha"),
    "km2": ("area_km2", "面积平方公里", "面积平方千米", "面积km2", "km2"),
}


def _read_park_points(path: Path, *, datum: str, crs_kind: str) -> list[tuple[str, Park | AOIError]]:
    df, _info = read_table(path, hints=[h for v in _POINT_COLS.values() for h in v])
    cols = df.columns
    c_id, c_name, c_lon, c_lat, c_km2 = (find_column(cols, _POINT_COLS[k]) for k in ("id", "name", "lon", "lat", "km2"))
    c_ha = find_column(cols, _POINT_COLS["ha"], exclude=[c_km2])  # a bare 面积 is taken as hectares
    if c_lon is None or c_lat is None or (c_ha is None and c_km2 is None):
        raise AOIError(f"{path}: a park table needs lon/经度, lat/纬度 and area_ha/面积(公顷) or area_km2 columns "
                       f"(found: {', '.join(map(str, cols[1:]))})")
    out: list[tuple[str, Park | AOIError]] = []
    for _, r in df.iterrows():
        row = int(r["_row0"]) + 2
        pid = str(r[c_id]).strip() if c_id is not None and pd.notna(r[c_id]) else f"{_slug(path.stem)}-{row - 1}"
        pname = str(r[c_name]).strip() if c_name is not None and pd.notna(r[c_name]) else pid
        where = f"{path}, row {row} ({pname})"
        try:
            lon, lat = _num(r[c_lon]), _num(r[c_lat])
            if lon is None or lat is None:
                raise AOIError(f"{where}: lon/lat missing or not a number; give decimal degrees")
            check_lonlat_values([lon], [lat], where)
            if datum in ("gcj02", "bd09"):
                check_in_china([lon], [lat], datum, where)
            lon, lat = convert(lon, lat, datum, "wgs84")
            ha = _num(r[c_ha]) if c_ha is not None else None
            if ha is None and c_km2 is not None:
                km2 = _num(r[c_km2])
                ha = None if km2 is None else km2 * 100.0
            if ha is None or ha <= 0:
                raise AOIError(f"{where}: the area is missing, zero or not a number; give area_ha (hectares)")
            crs = gk3_crs(lon) if crs_kind == "gk3" else utm_crs(lon, lat)
            fwd = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
            inv = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
            x, y = fwd.transform(lon, lat)
            circle = shapely.Point(x, y).buffer(float(np.sqrt(ha * 1e4 / np.pi)), quad_segs=32)
            geom = shapely.transform(circle, lambda xy: np.column_stack(inv.transform(xy[:, 0], xy[:, 1])))
            check_park_size(geom, where)
            attrs = {str(c): r[c] for c in df.columns if not str(c).startswith("_") and pd.notna(r[c])}
            meta = {"source": str(path), "format": "points", "datum": datum, "approximate": True,
                    "row": row, "area_ha_given": ha, "attributes": attrs}
            for k, v in attrs.items():
                meta.setdefault(k, v)
            park = Park(id=pid, name=pname, approved=geom, crs_kind=crs_kind, metadata=meta)
            out.append((pid, park))
        except AOIError as err:
            out.append((pid, err))
        except ValueError as err:  # gk3 zone out of range
            out.append((pid, AOIError(f"{where}: {err}")))
    return out
