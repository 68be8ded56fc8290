"""Reading enterprise lists (CSV in UTF-8/GBK/GB18030, XLSX, GeoJSON/GPKG points) with Chinese or English headers.

Bad rows are never dropped silently: they are listed in ``gdf.attrs["flagged"]`` with their row
number (as a spreadsheet counts, header = row 1), the field, the reason and the raw value, and a
:class:`~parkscan.aoi.errors.DataQualityWarning` summarises them.
"""
from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ._tables import find_column, read_table
from .datum import convert, normalize_datum
from .errors import AOIError, DataQualityWarning
from .outline import in_mainland_china

__all__ = ["read_enterprises", "industry_key", "INDUSTRY_KEYS", "HEADERS"]

log = logging.getLogger(__name__)

HEADERS: dict[str, tuple[str, ...]] = {
    "enterprise_id": ("enterprise_id", "统一社会信用代码", "社会信用代码", "信用代码", "企业编号", "企业代码", "编号",
                      "id", "code", "uscc"),
    "name": ("name", "企业名称", "单位名称", "名称", "企业", "公司名称", "company", "enterprise", "enterprise_name"),
    "industry": ("industry", "行业", "所属行业", "行业类别", "行业类型", "行业名称", "sector", "category"),
    "lon": ("lon", "lng", "long", "longitude", "经度", "x", "东经"),
    "lat": ("lat", "latitude", "纬度", "y", "北纬"),
    "datum": ("datum", "坐标系", "坐标系统", "crs"),
}
"""Recognised headers per field (compared after lower-casing and dropping spaces, brackets and units)."""

_INDUSTRY_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("petrochemical", ("石化", "石油化工", "炼油", "炼化", "petrochem", "refin")),
    ("pharma", ("制药", "医药", "原料药", "pharma", "drug")),
    ("coating", ("涂装", "喷涂", "喷漆", "涂料", "油漆", "coating", "paint")),
    ("chemical", ("化工", "化学", "chemical")),
    ("metal_plating", ("电镀", "表面处理", "金属", "有色", "plating", "metal")),
    ("electronics", ("电子", "半导体", "集成电路", "芯片", "电路板", "pcb", "electronic", "semiconductor")),
    ("textile", ("纺织", "印染", "染整", "染色", "化纤", "服装", "textile", "dyeing")),
    ("printing", ("印刷", "包装", "printing")),
    ("power", ("电力", "热电", "发电", "电厂", "供热", "power", "electricity")),
    ("steel", ("钢铁", "炼钢", "钢", "铸造", "steel", "iron", "foundry")),
    ("cement", ("水泥", "建材", "陶瓷", "玻璃", "cement", "ceramic", "glass", "building material")),
    ("rubber_plastics", ("橡胶", "塑料", "塑胶", "rubber", "plastic")),
    ("food", ("食品", "饮料", "酿造", "酒", "food", "beverage", "brew")),
    ("other", ("其他", "其它", "other")),
)
INDUSTRY_KEYS: tuple[str, ...] = tuple(k for k, _ in _INDUSTRY_RULES)
"""Canonical industry keys of the ``industry_key`` column."""


def industry_key(text: Any) -> str | None:
    """Canonical industry key of a free-text industry (Chinese or English).

    Examples
    --------
    >>> industry_key("石油化工"), industry_key("汽车涂装"), industry_key("Electronics"), industry_key("家具")
    ('petrochemical', 'coating', 'electronics', 'other')
    >>> industry_key(None) is None
    True
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    s = str(text).strip().lower()
    if not s:
        return None
    if s in INDUSTRY_KEYS:
        return s
    for key, words in _INDUSTRY_RULES:
        if any(w in s for w in words):
            return key
    return "other"


_DMS = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*[°度]\s*(?:(\d+(?:\.\d+)?)\s*['′分])?\s*"
                  r"(?:(\d+(?:\.\d+)?)\s*(?:\"|″|''|秒))?\s*([NSEW东西南北])?\s*$", re.I)


def _parse_coord(v: Any) -> float | None:
    """Decimal degrees from ``120.5``, ``"120.5°E"``, ``"120°30'15\\"E"``, ``"东经120.5"``; None if unparseable."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (int, float, np.number)):
        return float(v) if np.isfinite(v) else None
    s = str(v).strip().replace("\u3000", "")
    if not s:
        return None
    if re.fullmatch(r"[+-]?\d+[,，]\d+", s):  # decimal comma (semicolon-separated files)
        s = s.replace(",", ".").replace("，", ".")
    sign = 1.0
    for pre, sg in (("东经", 1), ("北纬", 1), ("西经", -1), ("南纬", -1)):
        if s.startswith(pre):
            s, sign = s[len(pre):].strip(), float(sg)
    try:
        f = float(s)
        return sign * f if np.isfinite(f) else None
    except ValueError:
        pass
    m = _DMS.match(s)
    if not m:
        m2 = re.match(r"^([+-]?\d+(?:\.\d+)?)\s*([NSEW])$", s, re.I)
        if not m2:
            return None
        f = float(m2.group(1))
        return -f if m2.group(2).upper() in "SW" else f
    deg = float(m.group(1))
    val = abs(deg) + float(m.group(2) or 0) / 60 + float(m.group(3) or 0) / 3600
    hemi = (m.group(4) or "").upper()
    neg = deg < 0 or hemi in ("S", "W", "西", "南")
    return -val * sign if neg else val * sign


_RESERVED = {"enterprise_id", "name", "industry", "industry_key", "lon", "lat", "lon_src", "lat_src", "datum", "row",
             "geometry"}


def _isblank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())


def _frame_from_geo(path: Path) -> pd.DataFrame:
    from ._formats import read_features

    gdf, _ = read_features(path)
    if gdf.crs is not None and not gdf.crs.is_geographic:
        gdf = gdf.to_crs(4326)
    df = pd.DataFrame(gdf.drop(columns=[c for c in ("geometry", "_layer") if c in gdf.columns]))
    pts = [None if g is None or g.is_empty else (g if g.geom_type == "Point" else g.representative_point())
           for g in gdf.geometry]
    df["_geom_lon"] = [np.nan if p is None else p.x for p in pts]
    df["_geom_lat"] = [np.nan if p is None else p.y for p in pts]
    df["_row0"] = np.arange(len(df)) - 1  # feature k (1-based) is reported as row k
    return df


def read_enterprises(path: str | Path, *, datum: str | None = None) -> gpd.GeoDataFrame:
    """Read an enterprise list.

    Parameters
    ----------
    path : str or Path
        CSV/TSV/TXT (UTF-8 with or without BOM, GBK/GB18030; delimiter sniffed), XLSX, or a
        GeoJSON/GeoPackage/Shapefile/KML of points. Headers in Chinese or English, see :data:`HEADERS`
        (企业名称/名称/单位名称, 经度, 纬度, 行业/所属行业, 统一社会信用代码, 坐标系 ...).
    datum : str, optional
        Datum of coordinates for rows whose ``datum``/``坐标系`` cell is empty (default WGS-84).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``enterprise_id`` (given, else generated ``E001``...), ``name`` (user text, verbatim apart from outer spaces),
        ``industry`` (verbatim or None), ``industry_key`` (see :data:`INDUSTRY_KEYS`), ``lon``, ``lat``
        (WGS-84), ``datum`` (as given), ``row`` (source row), other input columns, ``geometry``
        (Point, EPSG:4326). ``attrs["flagged"]`` lists ``{row, field, reason, value, kept}`` for each
        problem; rows with unusable coordinates or duplicates are not in the frame (``kept=False``).

    Raises
    ------
    AOIError
        Missing/unreadable file, no coordinate columns, or no usable row at all.

    Warns
    -----
    DataQualityWarning
        When rows were flagged.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = f.write_text("企业名称,经度,纬度,所属行业\\n甲化工,120.61,31.31,化工\\n", encoding="gbk")
    >>> e = read_enterprises(f)
    >>> e.loc[0, ["enterprise_id", "name", "industry_key"]].tolist()
    ['E001', '甲化工', 'chemical']
    """
    path = Path(path)
    default_datum = normalize_datum(datum) if datum else "wgs84"
    if path.suffix.lower() in (".geojson", ".json", ".gpkg", ".shp", ".kml", ".kmz", ".zip"):
        df, info = _frame_from_geo(path), {"format": path.suffix.lower().lstrip(".")}
    else:
        df, info = read_table(path, hints=[h for v in HEADERS.values() for h in v])
    cols = {k: find_column([c for c in df.columns if not str(c).startswith("_")], v) for k, v in HEADERS.items()}
    has_geom = "_geom_lon" in df.columns
    if cols["lon"] is None or cols["lat"] is None:
        if not has_geom:
            raise AOIError(f"{path}: no longitude/latitude columns; name them 经度 and 纬度 (or lon and lat) "
                           f"(found: {', '.join(str(c) for c in df.columns if not str(c).startswith('_'))})")
        cols["lon"], cols["lat"] = "_geom_lon", "_geom_lat"
    flagged: list[dict] = []
    good: list[dict] = []
    seen_id: dict[str, int] = {}
    seen_key: dict[tuple, int] = {}
    n_gen = 0
    width = max(3, len(str(len(df))))
    for _, r in df.iterrows():
        row = int(r["_row0"]) + 2

        def flag(field: str, reason: str, value: Any, kept: bool = False) -> None:
            flagged.append({"row": row, "field": field, "reason": reason,
                            "value": None if _isblank(value) else str(value), "kept": kept})

        raw_lon, raw_lat = r[cols["lon"]], r[cols["lat"]]
        lon, lat = _parse_coord(raw_lon), _parse_coord(raw_lat)
        bad = False
        for field, raw, val in (("lon", raw_lon, lon), ("lat", raw_lat, lat)):
            if _isblank(raw):
                flag(field, "missing coordinate", raw)
                bad = True
            elif val is None:
                flag(field, "not a number (decimal degrees expected)", raw)
                bad = True
        if bad:
            continue
        row_datum = default_datum
        if cols["datum"] is not None and not _isblank(r[cols["datum"]]):
            try:
                row_datum = normalize_datum(r[cols["datum"]])
            except AOIError:
                flag("datum", f"unknown datum; assumed {default_datum}", r[cols["datum"]], kept=True)
        swapped = abs(lon) <= 90 and (abs(lat) > 90 or not in_mainland_china(lon, lat)) and in_mainland_china(lat, lon)
        if swapped:
            flag("lon/lat", "longitude and latitude look swapped; swap the columns", f"{raw_lon}, {raw_lat}")
            continue
        if not (-180 <= lon <= 180):
            flag("lon", "longitude out of range -180..180", raw_lon)
            continue
        if not (-90 <= lat <= 90):
            flag("lat", "latitude out of range -90..90", raw_lat)
            continue
        if lon == 0 and lat == 0:
            flag("lon/lat", "coordinates are 0, 0 (missing?)", f"{raw_lon}, {raw_lat}")
            continue
        name = None if cols["name"] is None or _isblank(r[cols["name"]]) else str(r[cols["name"]]).strip()
        eid = None if cols["enterprise_id"] is None or _isblank(r[cols["enterprise_id"]]) \
            else str(r[cols["enterprise_id"]]).strip()
        if eid is not None and eid in seen_id:
            flag("enterprise_id", f"duplicate id (first on row {seen_id[eid]})", eid)
            continue
        key = (name, round(lon, 6), round(lat, 6))
        if name is not None and key in seen_key:
            flag("name", f"duplicate of row {seen_key[key]} (same name and coordinates)", name)
            continue
        if eid is None:
            n_gen += 1
            eid = f"E{n_gen:0{width}d}"
            while eid in seen_id:
                n_gen += 1
                eid = f"E{n_gen:0{width}d}"
        if name is None:
            flag("name", "name missing; the enterprise id is used as its name", None, kept=True)
            name = eid
        seen_id[eid] = row
        seen_key[key] = row
        ind = None if cols["industry"] is None or _isblank(r[cols["industry"]]) else str(r[cols["industry"]]).strip()
        rec = {"enterprise_id": eid, "name": name, "industry": ind, "industry_key": industry_key(ind),
               "lon_src": lon, "lat_src": lat, "datum": row_datum, "row": row}
        for c in df.columns:  # other input columns are kept (renamed if they clash)
            if not str(c).startswith("_") and c not in cols.values():
                rec[str(c) if str(c) not in _RESERVED else f"src_{c}"] = r[c]
        good.append(rec)
    if not good:
        head = "; ".join(f"row {f['row']} {f['field']}: {f['reason']}" for f in flagged[:3])
        raise AOIError(f"{path}: no usable enterprise row ({len(flagged)} flagged: {head}); "
                       "check the 经度/纬度 (lon/lat) columns")
    out = pd.DataFrame(good)
    lon = out["lon_src"].to_numpy(float, copy=True)
    lat = out["lat_src"].to_numpy(float, copy=True)
    for d in out["datum"].unique():
        m = (out["datum"] == d).to_numpy()
        lon[m], lat[m] = convert(lon[m], lat[m], d, "wgs84")
    out.insert(4, "lon", lon)
    out.insert(5, "lat", lat)
    out = out.drop(columns=["lon_src", "lat_src"])
    gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    gdf.attrs["flagged"] = flagged
    gdf.attrs["source"] = str(path)
    gdf.attrs.update({k: v for k, v in info.items() if k in ("encoding", "format")})
    dropped = sum(1 for f in flagged if not f["kept"])
    if flagged:
        head = "; ".join(f"row {f['row']} {f['field']}: {f['reason']}" for f in flagged[:5])
        more = f" (+{len(flagged) - 5} more)" if len(flagged) > 5 else ""
        warnings.warn(f"{path}: {len(flagged)} problem(s), {dropped} row(s) not used: {head}{more}; "
                      "see .attrs['flagged']", DataQualityWarning, stacklevel=2)
    log.info("read %d enterprises from %s (%d rows flagged)", len(gdf), path, dropped)
    return gdf
