"""Instrument lag: estimating it from repeated plume encounters and shifting the series.

An analyser sampling through an inlet reports a plume ``L`` seconds after the van passed it, so the peak is
drawn ``L × speed`` metres further along the road — in opposite directions on opposite passes. The lag that
makes peaks of different passes coincide best (smallest median distance from each peak to the nearest peak
of another pass, capped at ``cap_m``) is the estimate; at least ``min_peaks`` peaks on two passes are needed,
otherwise no lag is applied.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

__all__ = ["estimate_lag_from_peaks", "shift_series"]


def _positions_at(points: pd.DataFrame, trip_idx: dict, trips: np.ndarray, times: np.ndarray) -> np.ndarray:
    out = np.full((len(times), 2), np.nan)
    t_all, x_all, y_all = points["t"].to_numpy(float), points["x"].to_numpy(float), points["y"].to_numpy(float)
    for trip in np.unique(trips):
        idx = trip_idx[trip]
        m = trips == trip
        out[m, 0] = np.interp(times[m], t_all[idx], x_all[idx])
        out[m, 1] = np.interp(times[m], t_all[idx], y_all[idx])
    return out


def estimate_lag_from_peaks(points: pd.DataFrame, peaks: pd.DataFrame, *, max_lag_s: int = 30, cap_m: float = 300.0,
                            min_peaks: int = 6, strongest: int = 60) -> tuple[int, dict]:
    """Lag (s) of one pollutant's instrument estimated from its peaks (``t_start``/``t_end``, ``trip``).

    Returns
    -------
    lag, info : int, dict
        The lag (0 when it cannot be estimated) and ``{"n_peaks", "spread_m" (at the chosen lag), "spread0_m"}``.
    """
    if len(peaks) < min_peaks:
        return 0, {"n_peaks": int(len(peaks)), "reason": "too few peaks"}
    # the strongest peaks only: weak ones are mostly noise and would pull the estimate towards anything
    peaks = peaks.nlargest(strongest, "max_excess")
    ok = points["valid"].to_numpy() & np.isfinite(points["x"].to_numpy(float))
    sub = points[ok]
    trip_idx = {k: v for k, v in sub.reset_index(drop=True).groupby("trip", sort=False).indices.items()}
    sub = sub.reset_index(drop=True)
    tmid = 0.5 * (peaks["t_start"].to_numpy(float) + peaks["t_end"].to_numpy(float))
    trips = peaks["trip"].to_numpy()
    # two peaks belong to different passes when they are on different trips or more than 60 s apart
    trip_code = pd.factorize(pd.Series(trips).astype(str))[0]
    if len(np.unique(trip_code)) < 2 and (tmid.max() - tmid.min()) <= 60:
        return 0, {"n_peaks": int(len(peaks)), "reason": "peaks on a single pass"}
    # pairs of peaks met driving in opposite directions (lag moves them apart or together), within cap_m
    xy0 = _positions_at(sub, trip_idx, trips, tmid)
    head = _positions_at(sub, trip_idx, trips, tmid + 3.0) - _positions_at(sub, trip_idx, trips, tmid - 3.0)
    head = head / np.maximum(np.hypot(head[:, 0], head[:, 1]), 1e-9)[:, None]
    pairs = cKDTree(xy0).query_pairs(cap_m, output_type="ndarray")
    if len(pairs):
        i, j = pairs[:, 0], pairs[:, 1]
        keep = ((trip_code[i] != trip_code[j]) | (np.abs(tmid[i] - tmid[j]) > 60.0)) & ((head[i] * head[j]).sum(axis=1) < -0.5)
        pairs = pairs[keep]
    if len(pairs) < 2:
        return 0, {"n_peaks": int(len(peaks)), "reason": "no peaks met in opposite directions"}
    spreads = []
    for lag in range(0, max_lag_s + 1):
        xy = _positions_at(sub, trip_idx, trips, tmid - lag)
        d = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
        # per peak, its nearest opposite-direction partner
        best = pd.Series(np.concatenate([d, d])).groupby(np.concatenate([pairs[:, 0], pairs[:, 1]])).min()
        spreads.append(float(best.median()))
    spreads = np.array(spreads)
    best = int(np.argmin(spreads))
    # only accept a clear improvement over no lag
    if spreads[0] - spreads[best] < 0.15 * spreads[0]:
        return 0, {"n_peaks": int(len(peaks)), "spread0_m": spreads[0], "reason": "no clear improvement"}
    return best, {"n_peaks": int(len(peaks)), "spread_m": float(spreads[best]), "spread0_m": float(spreads[0])}


def shift_series(points: pd.DataFrame, column: str, lag_s: float) -> np.ndarray:
    """Values of ``column`` moved ``lag_s`` seconds earlier (value at t+lag assigned to t), per trip."""
    out = np.full(len(points), np.nan)
    v = points[column].to_numpy(float)
    t = points["t"].to_numpy(float)
    for _, idx in points.groupby("trip", sort=False).indices.items():
        tt = t[idx]
        j = np.searchsorted(tt, tt + lag_s)
        jj = np.clip(j, 0, len(tt) - 1)
        ok = (j < len(tt)) & (np.abs(tt[jj] - (tt + lag_s)) <= 1.0)
        out[idx] = np.where(ok, v[idx][jj], np.nan)
    return out
