"""Peaks (plume encounters) along a track, grouped in time and space in the manner of von Fischer et al. 2017.

A point is elevated when its excess over background exceeds ``max(k × background, floor)``; the floor is
the larger of an absolute floor and ``n_sigma`` robust standard deviations of the excess (MAD). Elevated
points of one trip separated by at most ``gap_s`` seconds and ``join_m`` metres form one peak; peaks
of different passes within ``radius_m`` of each other form one peak *location*, whose recurrence across
passes is the evidence that it is real (von Fischer et al. 2017, *Environ. Sci. Technol.* 51, 4091).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

__all__ = ["find_peaks", "group_peak_locations", "ABS_FLOOR"]

#: absolute excess floors in canonical units (µg/m³ unless noted) below which nothing counts as a peak
ABS_FLOOR = {"co2": 5.0, "ch4": 0.05, "co": 0.1, "pn": 2000.0, "bc": 1.0}
_COLS = ["peak_id", "pollutant", "trip", "t_start", "t_end", "duration_s", "n_points", "max_value", "max_excess",
         "background", "area", "x", "y", "lon", "lat", "pass_id"]


def _robust_sd(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    if x.size < 5:
        return 0.0
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def find_peaks(points: pd.DataFrame, pollutant: str, *, k: float = 0.5, floor: float | None = None, n_sigma: float = 3.0,
               gap_s: float = 5.0, join_m: float = 100.0, min_points: int = 2) -> pd.DataFrame:
    """Peaks of one pollutant.

    Parameters
    ----------
    points : DataFrame
        With ``trip``, ``t``, ``x``, ``y``, ``lon``, ``lat``, ``mappable``, ``<p>``, ``bg_<p>``, ``ex_<p>`` and
        optionally ``pass_id``; sorted by trip and time.
    pollutant : str
        Canonical pollutant name.
    k : float
        Relative threshold: excess must exceed ``k`` × background.
    floor : float, optional
        Absolute excess floor (default :data:`ABS_FLOOR` or 0), raised to ``n_sigma`` robust SDs of the excess.
    gap_s, join_m : float
        Elevated points closer than this in time and space belong to one peak.
    min_points : int
        Peaks need at least this many elevated points (a single 1 Hz spike is noise).

    Returns
    -------
    DataFrame
        One row per peak: times, duration, points, maximum value and excess, background, integrated
        excess (``area``, unit × s), position of the maximum, pass.
    """
    ex = points[f"ex_{pollutant}"].to_numpy(float)
    bg = points[f"bg_{pollutant}"].to_numpy(float)
    ok = points["mappable"].to_numpy() & np.isfinite(ex)
    thr_floor = max(ABS_FLOOR.get(pollutant, 0.0) if floor is None else floor, n_sigma * _robust_sd(ex[ok]))
    thr = np.maximum(k * np.where(np.isfinite(bg), np.abs(bg), 0.0), thr_floor)
    hi = ok & (ex > thr)
    idx = np.flatnonzero(hi)
    if idx.size == 0:
        return pd.DataFrame(columns=_COLS)
    t = points["t"].to_numpy(float)[idx]
    x = points["x"].to_numpy(float)[idx]
    y = points["y"].to_numpy(float)[idx]
    trip = pd.factorize(points["trip"].to_numpy()[idx])[0]
    new = np.ones(idx.size, bool)
    new[1:] = (trip[1:] != trip[:-1]) | (np.diff(t) > gap_s) | (np.hypot(np.diff(x), np.diff(y)) > join_m)
    gid = np.cumsum(new) - 1
    vals = points[pollutant].to_numpy(float)[idx]
    exs = ex[idx]
    df = pd.DataFrame({"g": gid, "t": t, "ex": exs, "v": vals, "bg": bg[idx], "i": idx})
    g = df.groupby("g")
    imax = df.loc[g["ex"].idxmax(), "i"].to_numpy()
    dt = np.diff(points["t"].to_numpy(float))
    step = np.median(dt[dt > 0]) if (dt > 0).any() else 1.0
    out = pd.DataFrame({
        "pollutant": pollutant,
        "trip": points["trip"].to_numpy()[imax],
        "t_start": g["t"].min().to_numpy(),
        "t_end": g["t"].max().to_numpy(),
        "n_points": g.size().to_numpy(),
        "max_value": points[pollutant].to_numpy(float)[imax],
        "max_excess": g["ex"].max().to_numpy(),
        "background": bg[imax],
        "area": g["ex"].sum().to_numpy() * step,
        "x": points["x"].to_numpy(float)[imax],
        "y": points["y"].to_numpy(float)[imax],
        "lon": points["lon"].to_numpy(float)[imax],
        "lat": points["lat"].to_numpy(float)[imax],
        "pass_id": points["pass_id"].to_numpy()[imax] if "pass_id" in points else -1,
    })
    out["duration_s"] = out["t_end"] - out["t_start"] + step
    out = out[out["n_points"] >= min_points].reset_index(drop=True)
    out.insert(0, "peak_id", [f"{pollutant}-{i + 1}" for i in range(len(out))])
    return out[_COLS]


def group_peak_locations(peaks: pd.DataFrame, *, radius_m: float = 50.0) -> np.ndarray:
    """Location ids: peaks (any pass, same pollutant) within ``radius_m`` of each other share one id."""
    n = len(peaks)
    if n == 0:
        return np.zeros(0, int)
    xy = peaks[["x", "y"]].to_numpy(float)
    pairs = cKDTree(xy).query_pairs(radius_m, output_type="ndarray")
    same = peaks["pollutant"].to_numpy()
    if len(pairs):
        pairs = pairs[same[pairs[:, 0]] == same[pairs[:, 1]]]
    m = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])) if len(pairs) else ([], ([], [])), shape=(n, n))
    return connected_components(m, directed=False)[1]
