"""Cleaning a mobile-monitoring track: every problem becomes a row of the flag table with a reason code.

Nothing is dropped silently: a flagged row stays in the points table with ``valid=False`` (row-level
codes) or with the single value set to NaN (value-level codes), and the flag table says why.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["REASONS", "FlagLog", "flag_time_order", "flag_gps_jumps", "flag_stationary", "flag_values", "estimate_lag", "haversine_m"]

#: reason code → (level, explanation). level: ``row`` (row excluded), ``value`` (one value excluded),
#: ``file``/``column`` (information about the whole file or column), ``info`` (kept, noted)
REASONS: dict[str, tuple[str, str]] = {
    "BAD_TIME": ("row", "time missing or unparseable"),
    "DUP_TIME": ("row", "duplicated timestamp (first kept)"),
    "TIME_BACKWARDS": ("row", "time earlier than a previous row of the same file"),
    "NO_COORD": ("row", "longitude/latitude missing"),
    "BAD_COORD": ("row", "longitude/latitude out of range or 0,0"),
    "BAD_DATUM": ("row", "unknown coordinate system in the datum column"),
    "GPS_JUMP": ("row", "implied speed above the maximum (GPS jump)"),
    "NO_GPS_FIX": ("row", "instrument row with no GPS fix close enough in time"),
    "STATIONARY": ("row", "vehicle stationary longer than the limit (kept for background, not mapped)"),
    "UNPARSEABLE_LINE": ("row", "line could not be split into the header's columns"),
    "BAD_VALUE": ("value", "non-numeric value"),
    "NEGATIVE": ("value", "negative concentration"),
    "OUT_OF_RANGE": ("value", "value above the plausible maximum for this pollutant"),
    "SATURATION": ("value", "sensor saturated (plateau at the column maximum)"),
    "ALL_NAN": ("column", "pollutant column has no numeric value"),
    "UNIT_UNKNOWN": ("column", "no unit in the header or mapping: values kept as given"),
    "UNIT_CONVERTED": ("column", "values converted to the canonical unit"),
    "LAG_SHIFT": ("column", "instrument lag corrected by shifting the series"),
    "COORD_SWAPPED": ("file", "longitude and latitude columns were swapped and are corrected"),
    "DATUM_CONVERTED": ("file", "coordinates converted to WGS-84"),
    "TRUNCATED": ("file", "file ends early (truncated)"),
    "TZ_ASSUMED": ("file", "time zone not stated: times taken as written"),
}

#: plausible maxima in canonical units (µg/m³ unless noted), beyond which a reading is an error
MAX_PLAUSIBLE = {
    "tvoc": 1e6, "benzene": 1e5, "toluene": 1e5, "xylene": 1e5, "ethylbenzene": 1e5, "styrene": 1e5, "hcho": 1e5, "nmhc": 1e6,
    "pm25": 2e4, "pm10": 3e4, "pm1": 2e4, "tsp": 5e4, "bc": 2e3, "pn": 1e7,
    "no2": 5e4, "no": 5e4, "nox": 1e5, "so2": 1e5, "h2s": 5e4, "nh3": 5e4, "co": 1e3, "co2": 5e4, "o3": 5e3, "ch4": 1e3,
    "hcl": 5e4, "cl2": 5e4,
}

_COLS = ["file", "row", "time", "column", "code", "value", "detail", "excluded"]


class FlagLog:
    """Collects flags; :meth:`frame` returns the flag table."""

    def __init__(self) -> None:
        self._parts: list[pd.DataFrame] = []

    def add(self, code: str, *, file: str, rows=None, times=None, column: str = "*", values=None, detail: str = "") -> None:
        """Add one flag (rows=None) or one per row."""
        if code not in REASONS:
            raise KeyError(code)
        level = REASONS[code][0]
        excluded = level in ("row", "value")
        if rows is None:
            rows_a = np.array([np.nan])
        else:
            rows_a = np.asarray(rows, dtype=float).ravel()
            if rows_a.size == 0:
                return
        n = rows_a.size
        if times is None:
            tcol = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]")
        else:
            tv = times.reset_index(drop=True) if isinstance(times, pd.Series) else pd.Series(np.asarray(times))
            tcol = pd.to_datetime(tv, utc=True).astype("datetime64[ns, UTC]")
        part = pd.DataFrame({
            "file": file,
            "row": rows_a,
            "time": tcol,
            "column": column,
            "code": code,
            "value": np.nan if values is None else pd.to_numeric(pd.Series(np.asarray(values, dtype=object)), errors="coerce").to_numpy(float),
            "detail": detail or REASONS[code][1],
            "excluded": excluded,
        })
        self._parts.append(part)

    def frame(self) -> pd.DataFrame:
        """The flag table (one row per flag)."""
        if not self._parts:
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(_COLS, ["str", "Int64", "datetime64[ns, UTC]", "str", "str", "float", "str", "bool"])})
        df = pd.concat(self._parts, ignore_index=True)
        df["row"] = df["row"].astype("Int64")
        return df


def haversine_m(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres (vectorised)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, float)) for a in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def flag_time_order(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of duplicated timestamps and of times going backwards (in file order).

    Parameters
    ----------
    t : ndarray of float
        Seconds, in file order (NaN allowed, ignored).

    Examples
    --------
    >>> dup, back = flag_time_order(np.array([0., 1., 1., 2., 1.5, 3.]))
    >>> dup.tolist(), back.tolist()
    ([False, False, True, False, False, False], [False, False, False, False, True, False])
    """
    t = np.asarray(t, float)
    tt = np.where(np.isnan(t), -np.inf, t)
    prev_max = np.maximum.accumulate(np.concatenate([[-np.inf], tt[:-1]]))
    back = (tt < prev_max) & ~np.isnan(t)
    dup = (tt == prev_max) & ~np.isnan(t)
    return dup, back


def flag_gps_jumps(t: np.ndarray, lon: np.ndarray, lat: np.ndarray, *, max_speed_kmh: float = 150.0) -> np.ndarray:
    """Mask of GPS fixes whose implied speed from the last accepted fix exceeds ``max_speed_kmh``.

    The comparison is always with the last accepted fix, so a run of displaced fixes is flagged whole
    and the fix after a jump is not.
    """
    n = len(t)
    bad = np.zeros(n, bool)
    if n < 2:
        return bad
    vmax = max_speed_kmh / 3.6
    d = haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    dt = np.maximum(np.diff(t), 1.0)
    cand = np.flatnonzero(d / dt > vmax) + 1
    i_last = -1
    for i in cand:
        if i <= i_last:
            continue
        j = i
        good = i - 1
        while good >= 0 and bad[good]:
            good -= 1
        while j < n and haversine_m(lon[good], lat[good], lon[j], lat[j]) / max(t[j] - t[good], 1.0) > vmax:
            bad[j] = True
            j += 1
            if j - i > 600:  # a long displaced stretch: probably the reference fix was the outlier
                bad[i:j] = False
                bad[good] = True
                break
        i_last = j
    return bad


def flag_stationary(t: np.ndarray, lon: np.ndarray, lat: np.ndarray, *, min_s: float = 60.0, speed_ms: float = 0.5,
                    speed: np.ndarray | None = None, half_window_s: float = 15.0) -> np.ndarray:
    """Mask of fixes in stationary periods (speed below ``speed_ms`` for at least ``min_s`` seconds).

    The speed is the vehicle-speed column when the file has one, else the net displacement over
    ±``half_window_s`` (robust to GPS jitter, which inflates point-to-point speeds of a parked van).
    """
    n = len(t)
    if n < 3:
        return np.zeros(n, bool)
    if speed is not None and np.isfinite(speed).mean() > 0.5:
        v = pd.Series(speed).interpolate(limit_direction="both").to_numpy()
    else:
        j0 = np.searchsorted(t, t - half_window_s)
        j1 = np.clip(np.searchsorted(t, t + half_window_s, side="right") - 1, 0, n - 1)
        d = haversine_m(lon[j0], lat[j0], lon[j1], lat[j1])
        v = d / np.maximum(t[j1] - t[j0], 1.0)
    slow = v < speed_ms
    # runs of slow fixes long enough in time
    edges = np.flatnonzero(np.diff(np.concatenate([[0], slow.astype(int), [0]])))
    out = np.zeros(n, bool)
    for a, b in zip(edges[::2], edges[1::2]):
        if t[b - 1] - t[a] >= min_s:
            out[a:b] = True
    return out


def flag_values(name: str, v: np.ndarray) -> dict[str, np.ndarray]:
    """Value-level masks for one pollutant in canonical units: NEGATIVE, OUT_OF_RANGE, SATURATION."""
    v = np.asarray(v, float)
    out = {"NEGATIVE": v < 0, "OUT_OF_RANGE": v > MAX_PLAUSIBLE.get(name, np.inf)}
    sat = np.zeros(len(v), bool)
    finite = np.isfinite(v) & ~out["OUT_OF_RANGE"]
    if finite.sum() > 20:
        vmax = v[finite].max()
        at_max = finite & (v == vmax)
        if at_max.sum() >= 3 and vmax > 0 and vmax > np.median(v[finite]):
            edges = np.flatnonzero(np.diff(np.concatenate([[0], at_max.astype(int), [0]])))
            for a, b in zip(edges[::2], edges[1::2]):
                if b - a >= 3:
                    sat[a:b] = True
    out["SATURATION"] = sat
    return out


def estimate_lag(ref: np.ndarray, sig: np.ndarray, *, max_lag: int = 60) -> tuple[int, float]:
    """Lag (samples) of ``sig`` behind ``ref`` maximising the correlation of their first differences.

    Returns
    -------
    lag, r : int, float
        Positive lag: ``sig`` responds ``lag`` samples after ``ref``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.convolve(rng.gamma(0.3, 1, 600), np.ones(5), "same")
    >>> estimate_lag(x, np.roll(x, 7))[0]
    7
    """
    a = pd.Series(ref).interpolate(limit_direction="both").diff().fillna(0).to_numpy()
    b = pd.Series(sig).interpolate(limit_direction="both").diff().fillna(0).to_numpy()
    best, best_r = 0, -np.inf
    n = len(a)
    for lag in range(-max_lag, max_lag + 1):
        if lag >= 0:
            x, y = a[: n - lag], b[lag:]
        else:
            x, y = a[-lag:], b[: n + lag]
        if len(x) < 10 or x.std() == 0 or y.std() == 0:
            continue
        r = float(np.corrcoef(x, y)[0, 1])
        if r > best_r:
            best, best_r = lag, r
    return best, best_r
