"""NASA FIRMS active-fire CSV reader (VIIRS 375 m and MODIS 1 km), exactly as FIRMS publishes it.

VIIRS columns: ``latitude, longitude, bright_ti4, scan, track, acq_date, acq_time, satellite, instrument,
confidence (n/l/h), version, bright_ti5, frp, daynight`` and, in archive downloads, ``type``.
MODIS columns: ``brightness`` and ``bright_t31`` instead of ``bright_ti4``/``bright_ti5`` and a
confidence of 0–100. Extra columns (``country_id``, ...) are kept.

Bad rows are **flagged, not dropped**: the ``flag`` column names the reason (empty when the row is
good) and ``valid`` is False; a :class:`DataQualityWarning` says how many.
"""
from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from parkscan.aoi.errors import DataQualityWarning, SourceIOError

__all__ = ["read_firms", "firms_dates", "FIRMS_TYPES", "REQUIRED"]

log = logging.getLogger(__name__)

REQUIRED = ("latitude", "longitude", "acq_date", "acq_time", "frp")
"""Columns every FIRMS CSV must have."""

FIRMS_TYPES = {0: "presumed vegetation fire", 1: "active volcano", 2: "other static land source", 3: "offshore"}
"""The FIRMS archive ``type`` codes."""

_VIIRS_CONF = {"l": "low", "n": "nominal", "h": "high", "low": "low", "nominal": "nominal", "high": "high"}
_SAT = {"N": "Suomi NPP", "1": "NOAA-20", "N20": "NOAA-20", "N21": "NOAA-21", "2": "NOAA-21",
        "T": "Terra", "A": "Aqua", "Terra": "Terra", "Aqua": "Aqua"}


def read_firms(path: str | Path, *, bbox: tuple[float, float, float, float] | None = None) -> pd.DataFrame:
    """Read a FIRMS active-fire CSV (VIIRS or MODIS).

    Parameters
    ----------
    path : str or Path
        The CSV as downloaded from FIRMS (area API, country or archive download).
    bbox : (west, south, east, north), optional
        Keep only rows inside this box (rows with unusable coordinates are kept, flagged).

    Returns
    -------
    pandas.DataFrame
        The original columns plus: ``sensor`` (VIIRS/MODIS), ``brightness_k`` and ``brightness2_k``
        (I4/I5 or 21/31 channel brightness temperature, K), ``confidence_class`` (low/nominal/high),
        ``confidence_pct`` (MODIS 0–100, else NaN), ``time`` (UTC Timestamp), ``date`` (UTC date string),
        ``satellite_name``, ``type`` (nullable Int64; missing when the file has none), ``row``
        (1-based data row in the file), ``flag`` (reason, '' when good), ``valid`` (bool).

    Raises
    ------
    SourceIOError
        Unreadable file or missing required columns (the message names them).

    Examples
    --------
    >>> df = read_firms("fire_nrt_SV-C2_12345.csv")  # doctest: +SKIP
    >>> df.loc[df.valid, ["latitude", "longitude", "frp", "date"]].head()  # doctest: +SKIP
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError as err:
        raise SourceIOError(f"{path}: no such FIRMS file") from err
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise SourceIOError(f"{path}: not a readable FIRMS CSV ({err})") from err
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    cols = set(raw.columns)
    missing = [c for c in REQUIRED if c not in cols]
    if "bright_ti4" in cols:
        sensor, b1, b2 = "VIIRS", "bright_ti4", "bright_ti5"
    elif "brightness" in cols:
        sensor, b1, b2 = "MODIS", "brightness", "bright_t31"
    else:
        sensor, b1, b2 = None, None, None
        missing.append("bright_ti4 (VIIRS) or brightness (MODIS)")
    if missing:
        raise SourceIOError(
            f"{path}: not a FIRMS active-fire CSV — missing column(s) {', '.join(missing)}; "
            f"found {', '.join(raw.columns[:12])}. Download the CSV from FIRMS without editing its header"
        )
    if "instrument" in cols and sensor == "MODIS" and raw["instrument"].str.upper().eq("VIIRS").all() and len(raw):
        sensor = "VIIRS"
    df = raw.copy()
    flags = [[] for _ in range(len(df))]

    def flag(mask: np.ndarray, reason: str) -> None:
        for i in np.flatnonzero(mask):
            flags[i].append(reason)

    def num(col: str) -> pd.Series:
        return pd.to_numeric(df[col].replace("", np.nan), errors="coerce") if col in df else pd.Series(np.nan, index=df.index)

    for c in ("latitude", "longitude", "frp", "scan", "track"):
        if c in df:
            df[c] = num(c)
    df["brightness_k"] = num(b1)
    df["brightness2_k"] = num(b2)
    lat, lon = df["latitude"].to_numpy(), df["longitude"].to_numpy()
    flag(~np.isfinite(lat) | ~np.isfinite(lon), "missing coordinates")
    flag(np.isfinite(lat) & (np.abs(lat) > 90) | np.isfinite(lon) & (np.abs(lon) > 180), "coordinates out of range")
    frp = df["frp"].to_numpy()
    flag(~np.isfinite(frp), "missing frp")
    flag(np.isfinite(frp) & (frp < 0), "negative frp")
    bk = df["brightness_k"].to_numpy()
    flag(np.isfinite(bk) & ((bk < 200) | (bk > 600)), f"implausible {b1}")
    # time: acq_date YYYY-MM-DD, acq_time HHMM (may have lost its leading zeros: 5 → 00:05)
    t = df["acq_time"].astype(str).str.strip().str.replace(":", "", regex=False)
    ok_t = t.str.fullmatch(r"\d{1,4}")
    t = t.where(ok_t, "").str.zfill(4)
    stamp = pd.to_datetime(df["acq_date"].astype(str).str.strip() + " " + t, format="%Y-%m-%d %H%M", errors="coerce", utc=True)
    flag(stamp.isna().to_numpy(), "bad acq_date/acq_time")
    df["time"] = stamp
    df["date"] = stamp.dt.strftime("%Y-%m-%d").where(stamp.notna(), "")
    # confidence
    conf = df["confidence"].astype(str).str.strip() if "confidence" in df else pd.Series("", index=df.index)
    if sensor == "VIIRS":
        df["confidence_class"] = conf.str.lower().map(_VIIRS_CONF)
        df["confidence_pct"] = np.nan
        flag(df["confidence_class"].isna().to_numpy() & conf.ne("").to_numpy(), "unknown confidence")
    else:
        pct = pd.to_numeric(conf.replace("", np.nan), errors="coerce")
        df["confidence_pct"] = pct
        df["confidence_class"] = pd.cut(pct, [-0.1, 30, 80, 100], labels=["low", "nominal", "high"]).astype(object)
        flag((pct.isna() & conf.ne("")).to_numpy() | ((pct < 0) | (pct > 100)).to_numpy(), "bad confidence")
    df["confidence_class"] = df["confidence_class"].astype(object).where(df["confidence_class"].notna(), None)
    df["sensor"] = sensor
    df["satellite_name"] = df["satellite"].astype(str).str.strip().map(_SAT).fillna(df["satellite"]) if "satellite" in df else None
    if "type" in df:
        ty = pd.to_numeric(df["type"].replace("", np.nan), errors="coerce")
        flag((ty.notna() & ~ty.isin(list(FIRMS_TYPES))).to_numpy(), "unknown type")
        df["type"] = ty.astype("Int64")
    else:
        df["type"] = pd.array([pd.NA] * len(df), dtype="Int64")
    if "daynight" in df:
        df["daynight"] = df["daynight"].astype(str).str.strip().str.upper()
    key = ["latitude", "longitude", "time"]
    dup = df.duplicated(subset=key, keep="first").to_numpy() & stamp.notna().to_numpy()
    flag(dup, "duplicate row")
    df["row"] = np.arange(1, len(df) + 1)
    df["flag"] = ["; ".join(f) for f in flags]
    df["valid"] = df["flag"].eq("")
    if bbox is not None:
        w, s, e, n = bbox
        inside = (df["longitude"] >= w) & (df["longitude"] <= e) & (df["latitude"] >= s) & (df["latitude"] <= n)
        df = df[inside | ~df["valid"]].reset_index(drop=True)
    nbad = int((~df["valid"]).sum())
    if nbad:
        reasons = pd.Series([r for f in df.loc[~df["valid"], "flag"] for r in f.split("; ")]).value_counts()
        warnings.warn(
            f"{path.name}: {nbad} of {len(df)} FIRMS rows flagged and not used ({', '.join(f'{k}: {v}' for k, v in reasons.items())})",
            DataQualityWarning,
            stacklevel=2,
        )
    df.attrs.update({"file": str(path), "sensor": sensor, "n_rows": len(raw), "n_flagged": nbad})
    log.info("%s: %d %s detections (%d flagged)", path.name, len(df), sensor, nbad)
    return df


def firms_dates(df: pd.DataFrame) -> tuple[str, str] | None:
    """(first, last) UTC date of the valid detections, or None."""
    d = df.loc[df["valid"], "date"] if "valid" in df else df.get("date")
    if d is None or d.empty:
        return None
    return str(d.min()), str(d.max())
