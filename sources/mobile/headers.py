"""Recognising mobile-monitoring column headers (Chinese and English) and their units.

A header such as ``"TVOC(ppb)"``, ``"二甲苯(ppb)"``, ``"AE51_BC (ug/m3)"`` or ``"date(LT)"`` is split into a
name and a unit; the name is tokenised and matched against :data:`ALIASES`. Anything unusual is
handled with a column-mapping file (see :func:`read_mapping`).
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from parkscan.aoi.errors import SourceError

__all__ = [
    "ALIASES",
    "POLLUTANTS",
    "MET",
    "ColumnMap",
    "MappingFile",
    "split_header",
    "normalise_unit",
    "match_role",
    "map_columns",
    "read_mapping",
]

#: canonical pollutant names (analysed as concentrations)
POLLUTANTS = (
    "tvoc", "benzene", "toluene", "xylene", "ethylbenzene", "styrene", "hcho", "nmhc",
    "pm25", "pm10", "pm1", "tsp", "bc", "pn",
    "no2", "no", "nox", "so2", "h2s", "nh3", "co", "co2", "o3", "ch4", "hcl", "cl2",
)
#: canonical meteorological / vehicle columns
MET = ("wind_dir", "wind_speed", "temp", "rh", "pressure", "speed", "altitude")
_COORD = ("time", "date", "clock", "lon", "lat", "datum")

#: role → aliases (lower case; Chinese as written). Multi-word aliases are matched as phrases.
ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("时间", "采样时间", "监测时间", "日期时间", "记录时间", "数据时间", "时刻", "time", "datetime", "date_time",
             "timestamp", "date(lt)", "gps time", "gpstime", "utc", "local time", "sampling time", "sample time",
             "date/time", "date time"),
    "date": ("日期", "date", "采样日期"),
    "clock": ("clock", "hms", "时分秒"),
    "lon": ("经度", "lon", "lng", "long", "longitude", "gps_lon", "gpslon", "x_lon"),
    "lat": ("纬度", "lat", "latitude", "gps_lat", "gpslat", "y_lat"),
    "datum": ("坐标系", "datum", "crs", "coord_sys", "坐标类型"),
    "tvoc": ("tvoc", "voc", "vocs", "总挥发性有机物", "挥发性有机物", "总voc", "pid"),
    "benzene": ("苯", "benzene"),
    "toluene": ("甲苯", "toluene"),
    "xylene": ("二甲苯", "xylene", "xylenes", "m/p-xylene", "o-xylene", "间二甲苯", "对二甲苯", "邻二甲苯"),
    "ethylbenzene": ("乙苯", "ethylbenzene"),
    "styrene": ("苯乙烯", "styrene"),
    "hcho": ("甲醛", "hcho", "formaldehyde"),
    "nmhc": ("非甲烷总烃", "nmhc"),
    "pm25": ("pm2.5", "pm25", "pm2_5", "细颗粒物"),
    "pm10": ("pm10", "可吸入颗粒物"),
    "pm1": ("pm1", "pm1.0"),
    "tsp": ("tsp", "总悬浮颗粒物"),
    "bc": ("bc", "black carbon", "黑碳"),
    "pn": ("particle concentration", "particle number", "pnc", "颗粒物数浓度", "粒子数浓度"),
    "no2": ("no2", "二氧化氮"),
    "no": ("no", "一氧化氮"),
    "nox": ("nox", "氮氧化物"),
    "so2": ("so2", "二氧化硫"),
    "h2s": ("h2s", "硫化氢"),
    "nh3": ("nh3", "氨", "氨气"),
    "co": ("co", "一氧化碳"),
    "co2": ("co2", "二氧化碳"),
    "o3": ("o3", "臭氧"),
    "ch4": ("ch4", "甲烷", "methane"),
    "hcl": ("hcl", "氯化氢"),
    "cl2": ("cl2", "氯气"),
    "wind_dir": ("风向", "wind direction", "wind_dir", "winddir", "wd", "wdir"),
    "wind_speed": ("风速", "wind speed", "wind_speed", "windspeed", "ws", "wspd"),
    "temp": ("温度", "气温", "temperature", "temp", "t_air"),
    "rh": ("湿度", "相对湿度", "rh", "humidity"),
    "pressure": ("气压", "大气压", "pressure", "press", "p_air"),
    "speed": ("车速", "速度", "speed", "vehicle speed", "gps speed", "velocity"),
    "altitude": ("海拔", "高度", "高程", "altitude", "elevation", "ele", "alt"),
}

_ALIAS_INDEX: dict[str, str] = {}
for _role, _names in ALIASES.items():
    for _n in _names:
        _ALIAS_INDEX.setdefault(_n, _role)

# tokens that mark a corrected variant of a measurement (preferred when several columns measure the same thing)
_CORRECTION_TOKENS = {"nr", "lc", "rhc", "ref", "corr", "corrected", "cal", "calibrated", "校正", "修正", "订正"}
_CN_SUFFIXES = ("浓度值", "浓度", "实时值", "实时", "读数", "值")

_UNIT_RE = re.compile(r"^(?P<name>.*?)\s*[\(\[（【](?P<unit>[^\)\]）】]*)[\)\]）】]\s*$")

_UNIT_NORMAL = {
    "ppb": "ppb", "ppbv": "ppb", "ppm": "ppm", "ppmv": "ppm", "ppt": "ppt",
    "ug/m3": "ug/m3", "µg/m3": "ug/m3", "μg/m3": "ug/m3", "ug/m³": "ug/m3", "µg/m³": "ug/m3", "μg/m³": "ug/m3",
    "微克/立方米": "ug/m3", "ug/nm3": "ug/m3",
    "mg/m3": "mg/m3", "mg/m³": "mg/m3", "毫克/立方米": "mg/m3", "ng/m3": "ng/m3", "ng/m³": "ng/m3",
    "#/cm3": "#/cm3", "#/cm³": "#/cm3", "pt/cc": "#/cm3", "#/cc": "#/cm3", "1/cm3": "#/cm3",
    "%": "%", "%rh": "%", "°": "deg", "deg": "deg", "degree": "deg", "degrees": "deg", "度": "deg",
    "m/s": "m/s", "km/h": "km/h", "kmh": "km/h", "kph": "km/h", "公里/小时": "km/h", "米/秒": "m/s",
    "°c": "degc", "℃": "degc", "degc": "degc", "c": "degc", "hpa": "hpa", "kpa": "kpa", "pa": "pa", "mbar": "hpa",
    "m": "m", "米": "m", "lt": "local", "local": "local", "utc": "utc", "gmt": "utc", "bjt": "+08:00", "北京时间": "+08:00",
}


def normalise_unit(unit: str | None) -> str | None:
    """Normalise a unit string (``"μg/m³"`` → ``"ug/m3"``); None when empty or unknown.

    Examples
    --------
    >>> normalise_unit("μg/m³"), normalise_unit("PPB"), normalise_unit("℃")
    ('ug/m3', 'ppb', 'degc')
    """
    if unit is None:
        return None
    u = str(unit).strip().lower().replace(" ", "")
    return _UNIT_NORMAL.get(u)


def split_header(header: Any) -> tuple[str, str | None]:
    """Split ``"PM2.5(μg/m³)"`` into (``"pm2.5"``, ``"ug/m3"``); unknown units are returned as None.

    Examples
    --------
    >>> split_header("TVOC(ppb)")
    ('tvoc', 'ppb')
    >>> split_header(" 经度 ")
    ('经度', None)
    """
    text = str(header).replace("\ufeff", "").strip()
    unit = None
    m = _UNIT_RE.match(text)
    if m:
        text, unit = m.group("name"), m.group("unit")
    else:
        # "NO2 ppb", "PM2.5_ug/m3": a trailing unit-like word
        parts = re.split(r"[\s_]+", text)
        if len(parts) > 1 and normalise_unit(parts[-1]) is not None:
            unit, text = parts[-1], " ".join(parts[:-1])
    return text.strip().lower(), normalise_unit(unit) if unit is not None else None


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[\s_\-:/,;|]+", name) if t]


@dataclass(frozen=True)
class ColumnMap:
    """How the columns of one file were understood."""

    roles: Mapping[str, str]
    """original header → canonical role (``time``, ``lon``, ``lat``, a pollutant, a met variable)."""
    units: Mapping[str, str | None]
    """canonical role → normalised unit (None when the header gave none)."""
    ignored: tuple[str, ...] = ()
    """Headers not used (unknown, or duplicates of a role already taken)."""
    time_hint: str | None = None
    """``local``/``utc``/an offset, when the time header said so (``date(LT)``)."""


def match_role(header: Any) -> tuple[str | None, str | None, int]:
    """Role, unit and a preference score (corrected variants score higher) of one header.

    Examples
    --------
    >>> match_role("二甲苯(ppb)")[:2]
    ('xylene', 'ppb')
    >>> match_role("LI-COR_CO2 (ppm)")[:2]
    ('co2', 'ppm')
    >>> match_role("AE51_BC_NR_LC (ug/m3)")
    ('bc', 'ug/m3', 2)
    """
    raw = str(header).replace("\ufeff", "").strip()
    if not raw or raw.lower().startswith("unnamed"):
        return None, None, 0
    # "date(LT)" is an alias as written
    low = raw.lower().replace(" ", "")
    if low in ("date(lt)", "date(utc)", "time(lt)", "time(utc)", "datetime(lt)", "datetime(utc)"):
        return "time", normalise_unit(low[low.index("(") + 1 : -1]), 0
    name, unit = split_header(raw)
    for suf in _CN_SUFFIXES:
        if len(name) > len(suf) and name.endswith(suf):
            name = name[: -len(suf)]
            break
    if name in _ALIAS_INDEX:
        return _ALIAS_INDEX[name], unit, 0
    toks = _tokens(name)
    score = sum(t in _CORRECTION_TOKENS for t in toks)
    # phrases of two tokens first ("particle concentration", "wind speed")
    for i in range(len(toks) - 1):
        phrase = f"{toks[i]} {toks[i + 1]}"
        if phrase in _ALIAS_INDEX:
            return _ALIAS_INDEX[phrase], unit, score
    for t in toks:
        if t in _ALIAS_INDEX:
            return _ALIAS_INDEX[t], unit, score
    # Chinese headers without separators: "苯浓度(ppb)" handled above; "风速m/s" etc.
    for alias in sorted(_ALIAS_INDEX, key=len, reverse=True):
        if not alias.isascii() and name.startswith(alias) and len(alias) >= 2:
            return _ALIAS_INDEX[alias], unit, score
    return None, unit, 0


@dataclass(frozen=True)
class MappingFile:
    """A column-mapping file's content (``--mapping F``)."""

    columns: Mapping[str, str] = field(default_factory=dict)
    """original header → canonical role (``time``, ``lon``, ``lat``, ``no2`` …, or ``ignore``)."""
    units: Mapping[str, str] = field(default_factory=dict)
    """canonical role → unit, overriding or completing the headers."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """File options: tz, clock_offset_s, datum, encoding, delimiter, header_row, time_format, lag_s."""


_OPTION_KEYS = {"tz", "clock_offset_s", "datum", "encoding", "delimiter", "header_row", "time_format", "lag_s", "temp_c", "pressure_kpa"}


def read_mapping(path: str | Path | None) -> MappingFile:
    """Read a column-mapping file (JSON or CSV).

    JSON: ``{"columns": {"浓度A": "no2", "Zeit": "time"}, "units": {"no2": "ppb"}, "tz": "+08:00",
    "clock_offset_s": -3, "datum": "gcj02"}``. CSV: a header ``column,role,unit`` and one row per column;
    option rows use the column name ``@tz``, ``@datum``, ``@clock_offset_s``, … with the value in ``role``.

    Examples
    --------
    >>> read_mapping(None).columns
    {}
    """
    if path is None:
        return MappingFile()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise SourceError(f"{p}: cannot read the column-mapping file ({err}); give a UTF-8 JSON or CSV file") from err
    columns: dict[str, str] = {}
    units: dict[str, str] = {}
    options: dict[str, Any] = {}
    valid_roles = set(ALIASES) | {"ignore"}
    if p.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise SourceError(f"{p}: the mapping file is not valid JSON (line {err.lineno}: {err.msg})") from err
        if not isinstance(data, dict):
            raise SourceError(f"{p}: the mapping file must be a JSON object with 'columns' and optional 'units'")
        for key in ("columns", "units"):
            if not isinstance(data.get(key) or {}, dict):
                raise SourceError(f"{p}: {key!r} must be a JSON object (header → role / role → unit), "
                                  f"got {type(data[key]).__name__}")
        for k, v in (data.get("columns") or {}).items():
            if isinstance(v, dict):
                columns[str(k)] = str(v.get("to") or v.get("role"))
                if v.get("unit"):
                    units[columns[str(k)]] = str(v["unit"])
            else:
                columns[str(k)] = str(v)
        units.update({str(k): str(v) for k, v in (data.get("units") or {}).items()})
        options = {k: data[k] for k in _OPTION_KEYS if k in data}
    else:
        rows = list(csv.reader(text.splitlines()))
        if not rows or [c.strip().lower() for c in rows[0][:2]] != ["column", "role"]:
            raise SourceError(f"{p}: a CSV mapping file needs the header 'column,role,unit'")
        for i, r in enumerate(rows[1:], start=2):
            if not r or not r[0].strip():
                continue
            if len(r) < 2:
                raise SourceError(f"{p}, line {i}: expected 'column,role[,unit]'")
            col, role = r[0].strip(), r[1].strip()
            if col.startswith("@"):
                options[col[1:]] = role
                continue
            columns[col] = role
            if len(r) > 2 and r[2].strip():
                units[role] = r[2].strip()
    bad = sorted({r for r in columns.values() if r not in valid_roles})
    if bad:
        raise SourceError(f"{p}: unknown role(s) {bad}; valid roles are {sorted(valid_roles)}")
    for k in ("clock_offset_s", "lag_s", "header_row", "temp_c", "pressure_kpa"):
        if k in options and not isinstance(options[k], dict):
            try:
                options[k] = float(options[k]) if k != "header_row" else int(options[k])
            except (TypeError, ValueError) as err:
                raise SourceError(f"{p}: option {k!r} must be a number, got {options[k]!r}") from err
    return MappingFile(columns=columns, units={k: normalise_unit(v) or v for k, v in units.items()}, options=options)


def map_columns(headers: list[Any], mapping: MappingFile | None = None) -> ColumnMap:
    """Assign a canonical role to each header; the mapping file wins over recognition.

    When several columns match one role, the corrected variant (``_NR_LC``, ``_RHC_Ref``, ``校正``) is used
    and the others are ignored (listed in :attr:`ColumnMap.ignored`).

    Examples
    --------
    >>> cm = map_columns(["采样时间", "经度", "纬度", "TVOC(ppb)", "苯(ppb)", "甲苯(ppb)"])
    >>> dict(cm.roles)["苯(ppb)"], cm.units["tvoc"]
    ('benzene', 'ppb')
    """
    mapping = mapping or MappingFile()
    chosen: dict[str, tuple[int, int, str, str | None]] = {}  # role -> (score, -index, header, unit)
    time_hint = None
    ignored: list[str] = []
    for i, h in enumerate(headers):
        hs = str(h)
        if hs in mapping.columns:
            role = mapping.columns[hs]
            if role == "ignore":
                ignored.append(hs)
                continue
            unit = split_header(hs)[1]
            chosen[role] = (10**6, -i, hs, unit)
            continue
        role, unit, score = match_role(hs)
        if role is None:
            if hs.strip() and not hs.lower().startswith("unnamed"):
                ignored.append(hs)
            continue
        if role == "time" and unit in ("local", "utc") or (role == "time" and unit and unit[0] in "+-"):
            time_hint, unit = unit, None
        cand = (score, -i, hs, unit)
        if role not in chosen or cand[:2] > chosen[role][:2]:
            if role in chosen:
                ignored.append(chosen[role][2])
            chosen[role] = cand
        else:
            ignored.append(hs)
    roles = {v[2]: k for k, v in chosen.items()}
    units = {k: v[3] for k, v in chosen.items()}
    for k, u in mapping.units.items():
        units[k] = u
    return ColumnMap(roles=roles, units=units, ignored=tuple(ignored), time_hint=time_hint)
