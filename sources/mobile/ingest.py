"""Ingest mobile-monitoring (走航) files into one cleaned, flagged point table: :func:`read_mobile`.

Files with coordinates are *tracks* (one trip each); files with a time and pollutants but no coordinates
are *instrument logs*, joined to the tracks by time after their own time zone and clock offset.
"""
from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from parkscan.aoi.digest import sha256_file
from parkscan.aoi.errors import DataQualityWarning, SourceError

from .assemble import clean_points, join_track, merge_instruments
from .clean import FlagLog, flag_time_order
from .headers import MET, POLLUTANTS, ColumnMap, MappingFile, map_columns, read_mapping
from .readers import RawTable, read_raw
from .units import canonical_unit, convert

__all__ = ["MobileRun", "FileInfo", "read_mobile", "parse_time"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileInfo:
    """One input file as read."""

    path: str
    """The file path."""
    sha256: str
    """Checksum of its bytes."""
    size: int
    """Bytes."""
    kind: str
    """``track`` (has coordinates) or ``instrument`` (joined by time)."""
    reader: str
    """``csv``, ``xlsx`` or ``gpx``."""
    rows: int
    """Data rows read."""
    columns: Mapping[str, str]
    """original header → canonical role."""
    units: Mapping[str, str | None]
    """canonical role → unit as given."""
    ignored: tuple[str, ...] = ()
    """Headers not used."""
    encoding: str | None = None
    """Text encoding (CSV)."""
    delimiter: str | None = None
    """Field delimiter (CSV)."""
    tz: str | None = None
    """Time zone applied (None: times taken as written)."""
    clock_offset_s: float = 0.0
    """Seconds added to the file's clock."""
    datum: str = "wgs84"
    """Datum of the coordinates as given."""
    meta: Mapping[str, Any] = field(default_factory=dict)
    """Instrument header block and reader metadata."""


@dataclass
class MobileRun:
    """A cleaned mobile-monitoring campaign: points, flags and where they came from.

    ``points`` columns: ``time`` (UTC), ``t`` (seconds since epoch), ``lon``, ``lat`` (WGS-84), ``trip``,
    ``file``, ``row`` (line in the file), ``valid`` (row usable), ``mappable`` (valid and not stationary),
    one column per pollutant (canonical units, NaN where flagged) and met columns
    (``wind_dir`` °, ``wind_speed`` m/s, ``speed`` m/s, ``temp`` °C, ``rh`` %, ``pressure`` hPa).
    """

    points: pd.DataFrame
    """One row per fix (see class docstring)."""
    flags: pd.DataFrame
    """Flag table: file, row, time, column, code, value, detail, excluded."""
    pollutants: tuple[str, ...]
    """Pollutants present with at least one valid value."""
    units: dict[str, str | None]
    """pollutant → unit of the values in ``points``."""
    files: list[FileInfo]
    """The inputs."""
    conditions: dict[str, float] = field(default_factory=lambda: {"temp_c": 25.0, "pressure_kpa": 101.325})
    """Reference state of mass concentrations converted from ppb/ppm."""

    @property
    def dates(self) -> tuple[str, ...]:
        """Distinct dates covered (in the files' own time, ISO)."""
        t = self.points["time"]
        if "local_date" in self.points:
            return tuple(sorted(self.points["local_date"].dropna().unique()))
        return tuple(sorted({d.date().isoformat() for d in t.dropna()}))

    def km_driven(self) -> float:
        """Distance driven along valid fixes, km."""
        from .clean import haversine_m

        p = self.points[self.points["valid"]]
        total = 0.0
        for _, g in p.groupby("trip", sort=False):
            if len(g) > 1:
                d = haversine_m(g["lon"].to_numpy()[:-1], g["lat"].to_numpy()[:-1], g["lon"].to_numpy()[1:], g["lat"].to_numpy()[1:])
                total += float(d[d < 2000].sum())
        return total / 1000.0


_CN_TIME = str.maketrans({"年": "-", "月": "-", "日": " ", "时": ":", "分": ":", "秒": "", "/": "-", "T": " "})


def parse_time(s: pd.Series, *, fmt: str | None = None) -> pd.Series:
    """Parse a time column: ISO/Chinese date-time strings, epoch seconds or milliseconds, Excel serial days.

    Returns datetime64[ns] (tz-aware only when the strings carry an offset). Unparseable cells are NaT.

    Examples
    --------
    >>> parse_time(pd.Series(["2024年5月1日 8时00分01秒", "2024/05/01 08:00:02"])).dt.second.tolist()
    [1, 2]
    >>> str(parse_time(pd.Series([1714521601]))[0])
    '2024-05-01 00:00:01'
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    sample = s.dropna().head(50)
    num = None
    if len(sample) and pd.to_numeric(sample, errors="coerce").notna().mean() > 0.9:
        num = pd.to_numeric(s, errors="coerce")
    if num is not None and num.notna().mean() > 0.9:
        v = num.dropna()
        if (v > 1e11).all():
            return pd.to_datetime(num, unit="ms", errors="coerce")
        if (v > 1e8).all():
            return pd.to_datetime(num, unit="s", errors="coerce")
        if ((v > 20000) & (v < 80000)).all():
            return pd.to_datetime(num, unit="D", origin="1899-12-30", errors="coerce")
    if fmt:
        return pd.to_datetime(s.astype("string").str.strip(), format=fmt, errors="coerce")
    try:
        out = pd.to_datetime(s, format="ISO8601", errors="coerce")
    except (TypeError, ValueError):
        out = pd.Series(pd.NaT, index=s.index)
    txt = None
    if out.isna().mean() > 0.05:
        txt = s.astype("string").str.strip()
        cand = pd.to_datetime(txt, format="ISO8601", errors="coerce")
        if cand.notna().sum() > out.notna().sum():
            out = cand
    if out.isna().mean() > 0.5:
        alt = txt.str.translate(_CN_TIME).str.replace(r"\s+", " ", regex=True).str.strip(" :")
        for f in ("ISO8601", "%Y-%m-%d %H:%M:%S", "%d-%m-%Y %H:%M:%S", "%m-%d-%Y %H:%M:%S", "mixed"):
            try:
                cand = pd.to_datetime(alt, format=f, errors="coerce")
            except (ValueError, TypeError):
                continue
            if cand.notna().sum() > out.notna().sum():
                out = cand
            if out.notna().mean() > 0.9:
                break
    return out


def _to_utc_seconds(ts: pd.Series, tz: str | None) -> tuple[pd.Series, str | None]:
    if getattr(ts.dt, "tz", None) is not None:
        return ts.dt.tz_convert("UTC"), "as given"
    if tz:
        m = re.fullmatch(r"(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?", tz.strip())
        if m:
            off = (int(m.group(2)) * 60 + int(m.group(3) or 0)) * (1 if m.group(1) == "+" else -1)
            return (ts - pd.Timedelta(minutes=off)).dt.tz_localize("UTC"), tz
        try:
            return ts.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC"), tz
        except (KeyError, ValueError) as err:
            raise SourceError(f"unknown time zone {tz!r}; use an IANA name (Asia/Shanghai) or an offset (+08:00)") from err
    return ts.dt.tz_localize("UTC"), None


def _per_file(value, path: Path, index: int, default=None):
    if isinstance(value, Mapping):
        for key in (str(path), path.name, index):
            if key in value:
                return value[key]
        return default
    if isinstance(value, (list, tuple)):
        return value[index] if index < len(value) else default
    return default if value is None else value


def _standardise(raw: RawTable, cmap: ColumnMap, *, fid: str, tz: str | None, clock_offset_s: float, datum: str,
                 flags: FlagLog, conditions: dict[str, float], time_format: str | None) -> tuple[pd.DataFrame, dict]:
    df = raw.data
    roles = {role: col for col, role in cmap.roles.items()}
    out = pd.DataFrame(index=df.index)
    rows = df.index.to_numpy()
    info: dict[str, Any] = {}
    if "time" not in roles and not ("date" in roles and "clock" in roles) and "date" not in roles:
        raise SourceError(
            f"{raw.path}: no time column recognised (headers: {list(map(str, df.columns))[:12]}). "
            "Name it 时间/采样时间/time/datetime, or map it with --mapping (column,role → time)"
        )
    if "time" in roles:
        tcol = df[roles["time"]]
        if "date" in roles and roles["date"] != roles["time"]:
            tcol = df[roles["date"]].astype("string") + " " + tcol.astype("string")
    elif "clock" in roles:
        tcol = df[roles["date"]].astype("string") + " " + df[roles["clock"]].astype("string")
    else:
        tcol = df[roles["date"]]
    ts = parse_time(tcol, fmt=time_format)
    if ts.notna().sum() == 0:
        raise SourceError(f"{raw.path}: the time column {roles.get('time', roles.get('date'))!r} has no parseable time (first value {tcol.iloc[0] if len(tcol) else None!r}); give time_format in a --mapping file")
    hint = cmap.time_hint
    if tz is None and hint == "utc":
        tz = "UTC"
    elif tz is None and hint and hint[0] in "+-":
        tz = hint
    ts_utc, tz_used = _to_utc_seconds(ts, tz)
    if tz_used is None:
        flags.add("TZ_ASSUMED", file=fid, detail="time zone not stated (give tz in a --mapping file): times taken as written")
    ts_utc = ts_utc + pd.to_timedelta(clock_offset_s, unit="s")
    out["time"] = ts_utc.astype("datetime64[ns, UTC]")
    day = (ts if getattr(ts.dt, "tz", None) is None else ts_utc).dt.floor("D")
    codes, uniq = pd.factorize(day)
    names = np.array([d.strftime("%Y-%m-%d") for d in uniq] + [None], dtype=object)
    out["local_date"] = names[np.where(codes < 0, len(uniq), codes)]
    bad_t = out["time"].isna().to_numpy()
    flags.add("BAD_TIME", file=fid, rows=rows[bad_t], column=str(roles.get("time", "time")))
    info["tz"] = tz_used
    has_coords = "lon" in roles and "lat" in roles
    if has_coords:
        lon = pd.to_numeric(df[roles["lon"]], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(df[roles["lat"]], errors="coerce").to_numpy(float)
        fin = np.isfinite(lon) & np.isfinite(lat)
        if fin.any():
            lo, la = np.nanmedian(np.abs(lon[fin])), np.nanmedian(np.abs(lat[fin]))
            if la > 90 >= lo or (lo < la and 73 < la < 136 and 3 < lo < 54):
                lon, lat = lat, lon
                flags.add("COORD_SWAPPED", file=fid, detail=f"columns {roles['lon']!r}/{roles['lat']!r} hold latitude/longitude: swapped")
        no = ~(np.isfinite(lon) & np.isfinite(lat))
        flags.add("NO_COORD", file=fid, rows=rows[no & ~bad_t], column="lon/lat")
        bad = ~no & ((np.abs(lat) > 90) | (np.abs(lon) > 180) | ((lon == 0) & (lat == 0)))
        flags.add("BAD_COORD", file=fid, rows=rows[bad], column="lon/lat", values=lon[bad])
        lon = np.where(bad, np.nan, lon)
        lat = np.where(bad, np.nan, lat)
        lon, lat = _to_wgs84(lon, lat, df, roles, datum, fid, rows, flags)
        out["lon"], out["lat"] = lon, lat
    for role in POLLUTANTS:
        if role not in roles:
            continue
        col = roles[role]
        raw_v = df[col]
        v = pd.to_numeric(raw_v, errors="coerce")
        nonnum = v.isna() & raw_v.notna()
        if nonnum.any():
            nonnum &= raw_v.astype("string").str.strip().ne("").fillna(False)
        flags.add("BAD_VALUE", file=fid, rows=rows[nonnum.to_numpy()], column=role, detail=f"non-numeric value in {col!r}")
        vals = v.to_numpy(float)
        if not np.isfinite(vals).any():
            flags.add("ALL_NAN", file=fid, column=role, detail=f"column {col!r} has no numeric value: not analysed")
            continue
        unit = cmap.units.get(role) or raw.unit_row.get(col)
        from .headers import normalise_unit

        unit = normalise_unit(unit) or unit
        target = canonical_unit(role, unit)
        if unit is None:
            flags.add("UNIT_UNKNOWN", file=fid, column=role, detail=f"{col!r} has no unit: values kept as given; state it in a --mapping file")
        elif target != unit:
            vals = convert(vals, role, unit, target, **conditions)
            flags.add("UNIT_CONVERTED", file=fid, column=role, detail=f"{unit} → {target} at {conditions['temp_c']} °C, {conditions['pressure_kpa']} kPa")
        out[role] = vals
        info.setdefault("units", {})[role] = target
    for role in MET:
        if role not in roles:
            continue
        vals = pd.to_numeric(df[roles[role]], errors="coerce").to_numpy(float)
        unit = cmap.units.get(role)
        if role in ("speed", "wind_speed") and unit == "km/h":
            vals = vals / 3.6
        if role == "pressure" and unit == "kpa":
            vals = vals * 10
        out[role] = vals
    out["file"] = fid
    out["row"] = rows
    info["has_coords"] = has_coords
    return out, info


def _to_wgs84(lon, lat, df, roles, datum, fid, rows, flags):
    from parkscan.aoi.datum import convert as dconvert, normalize_datum
    from parkscan.aoi.errors import AOIError

    if "datum" in roles:
        col = df[roles["datum"]].astype("string").str.strip().str.lower()
        lon2, lat2 = lon.copy(), lat.copy()
        for name in col.dropna().unique():
            m = (col == name).fillna(False).to_numpy()
            try:
                d = normalize_datum(str(name))
            except (AOIError, ValueError):
                flags.add("BAD_DATUM", file=fid, rows=rows[m], column="datum", detail=f"unknown coordinate system {name!r}")
                lon2[m], lat2[m] = np.nan, np.nan
                continue
            if d != "wgs84":
                lon2[m], lat2[m] = dconvert(lon[m], lat[m], d, "wgs84")
                flags.add("DATUM_CONVERTED", file=fid, detail=f"{int(m.sum())} rows {d} → wgs84 (per-row datum column)")
        return lon2, lat2
    d = normalize_datum(datum or "wgs84")
    if d == "wgs84":
        return lon, lat
    flags.add("DATUM_CONVERTED", file=fid, detail=f"{d} → wgs84")
    fin = np.isfinite(lon) & np.isfinite(lat)
    lon2, lat2 = lon.copy(), lat.copy()
    if fin.any():
        lon2[fin], lat2[fin] = dconvert(lon[fin], lat[fin], d, "wgs84")
    return lon2, lat2


def read_mobile(
    paths: str | Path | Sequence[str | Path],
    *,
    mapping: str | Path | MappingFile | None = None,
    datum: str | Mapping[str, str] = "wgs84",
    tz: str | Mapping[str, str] | None = None,
    clock_offset_s: float | Mapping[str, float] = 0.0,
    lag_s: Mapping[str, float] | str | None = None,
    temp_c: float | None = None,
    pressure_kpa: float | None = None,
    max_speed_kmh: float = 150.0,
    stationary_s: float = 60.0,
    max_gap_s: float = 5.0,
) -> MobileRun:
    """Read, join and clean mobile-monitoring files.

    Parameters
    ----------
    paths : path or list of paths
        CSV/TXT/XLSX/GPX files: complete tracks, or GPS tracks plus instrument logs (joined by time).
    mapping : path or MappingFile, optional
        A column-mapping file (JSON or CSV) for unusual headers; it may also give tz, clock_offset_s, datum.
    datum : str or {file: str}
        Datum of the coordinates (``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09``); converted to WGS-84.
    tz : str or {file: str}, optional
        Time zone of naive times (``Asia/Shanghai``, ``+08:00``); None takes times as written.
    clock_offset_s : float or {file: float}
        Seconds added to each file's clock (instrument clock behind the GPS → positive).
    lag_s : {pollutant: seconds} or ``"estimate"``, optional
        Instrument response lag; ``"estimate"`` uses cross-correlation with the first pollutant.
    temp_c, pressure_kpa : float, optional
        Reference state for ppb ↔ µg/m³ (default 25 °C, 101.325 kPa).
    max_speed_kmh : float
        Implied speeds above this are GPS jumps.
    stationary_s : float
        Stops longer than this are flagged STATIONARY (not mapped).
    max_gap_s : float
        Largest time gap between an instrument row and a GPS fix for joining.

    Returns
    -------
    MobileRun

    Raises
    ------
    SourceError
        No coordinates anywhere, no time column, nothing valid left; the message names the file.
    """
    plist = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else list(paths))]
    if not plist:
        raise SourceError("no mobile-monitoring file given")
    mp = mapping if isinstance(mapping, MappingFile) else read_mapping(mapping)
    conditions = {"temp_c": float(temp_c if temp_c is not None else mp.options.get("temp_c", 25.0)),
                  "pressure_kpa": float(pressure_kpa if pressure_kpa is not None else mp.options.get("pressure_kpa", 101.325))}
    flags = FlagLog()
    tracks: list[pd.DataFrame] = []
    insts: list[pd.DataFrame] = []
    infos: list[FileInfo] = []
    units: dict[str, str | None] = {}
    for i, p in enumerate(plist):
        raw = read_raw(p, mapping=mp)
        fid = p.name if sum(q.name == p.name for q in plist) == 1 else str(p)
        for prob in raw.problems:
            m = re.match(r"line (\d+) skipped: (.*)", prob)
            if m:
                flags.add("UNPARSEABLE_LINE", file=fid, rows=[int(m.group(1))], detail=m.group(2))
            else:
                flags.add("TRUNCATED", file=fid, detail=prob)
        if not len(raw.data):
            raise SourceError(f"{p}: no data rows after the header (line {raw.first_line - 1}); no valid row to read")
        cmap = map_columns(list(raw.data.columns), mp)
        f_tz = _per_file(tz, p, i, mp.options.get("tz"))
        f_off = float(_per_file(clock_offset_s, p, i, None) or mp.options.get("clock_offset_s", 0.0) or 0.0)
        f_datum = _per_file(datum, p, i, None)
        if not f_datum or (f_datum == "wgs84" and not isinstance(datum, Mapping)):
            f_datum = mp.options.get("datum") or f_datum or "wgs84"
        df, info = _standardise(raw, cmap, fid=fid, tz=f_tz, clock_offset_s=f_off, datum=f_datum, flags=flags,
                                conditions=conditions, time_format=mp.options.get("time_format"))
        df["t"] = (df["time"] - pd.Timestamp("1970-01-01", tz="UTC")) / pd.Timedelta(seconds=1)
        for k, u in info.get("units", {}).items():
            if k in units and units[k] != u:
                raise SourceError(f"{p}: {k} is in {u} but an earlier file gave {units[k]}; state the units in a --mapping file")
            units[k] = u
        kind = "track" if info["has_coords"] else "instrument"
        if kind == "instrument" and not any(c in df for c in POLLUTANTS):
            raise SourceError(f"{p}: neither coordinates (经度/纬度, lon/lat) nor pollutant columns recognised "
                              f"(headers: {list(map(str, raw.data.columns))[:12]}); give a --mapping file")
        (tracks if kind == "track" else insts).append(df)
        infos.append(FileInfo(path=str(p), sha256=sha256_file(p), size=p.stat().st_size, kind=kind, reader=raw.kind, rows=len(raw.data),
                              columns=dict(cmap.roles), units=dict(cmap.units), ignored=cmap.ignored, encoding=raw.encoding,
                              delimiter=raw.delimiter, tz=info.get("tz"), clock_offset_s=f_off, datum=str(f_datum), meta=dict(raw.meta)))
    if not tracks:
        raise SourceError(
            "no file has coordinates (经度/纬度 or longitude/latitude): "
            f"{', '.join(p.name for p in plist)}. Add the GPS track (GPX or CSV) to join the instrument logs by time"
        )
    # time order and duplicates per file (in file order), before anything is joined
    for df in tracks + insts:
        fid = df["file"].iloc[0] if len(df) else "?"
        dup, back = flag_time_order(df["t"].to_numpy())
        flags.add("DUP_TIME", file=fid, rows=df["row"].to_numpy()[dup], times=df["time"].iloc[np.flatnonzero(dup)])
        flags.add("TIME_BACKWARDS", file=fid, rows=df["row"].to_numpy()[back], times=df["time"].iloc[np.flatnonzero(back)])
        df["_ok"] = ~(dup | back) & df["time"].notna().to_numpy()
    if insts:
        gps = pd.concat([d[d["_ok"]] for d in tracks], ignore_index=True)
        joined = [join_track(gps, d[d["_ok"]], max_gap_s=max_gap_s, flags=flags) for d in insts]
        for j in joined:
            j["_ok"] = j["lon"].notna()
        pts = merge_instruments(tracks, joined, flags)
    else:
        pts = pd.concat(tracks, ignore_index=True)
    pts["trip"] = pts["file"]
    pts = clean_points(pts, flags, units, lag_s=lag_s, max_speed_kmh=max_speed_kmh, stationary_s=stationary_s)
    pollutants = tuple(c for c in POLLUTANTS if c in pts and np.isfinite(pts.loc[pts["valid"], c]).any())
    if not pts["valid"].any():
        raise SourceError(f"no valid row left in {', '.join(p.name for p in plist)}: see the flags ({flags.frame()['code'].value_counts().to_dict()})")
    fl = flags.frame()
    n_flagged = int(fl["excluded"].sum())
    if n_flagged:
        warnings.warn(f"{n_flagged} values/rows flagged while reading mobile data (see the flag table)", DataQualityWarning, stacklevel=2)
    return MobileRun(points=pts, flags=fl, pollutants=pollutants, units={k: units.get(k) for k in pollutants}, files=infos, conditions=conditions)


