"""Assembling a run: joining instrument logs to GPS tracks by time, and cleaning whole tracks.

Used by :func:`parkscan.sources.mobile.ingest.read_mobile`; every problem goes to the :class:`~.clean.FlagLog`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .clean import FlagLog, estimate_lag, flag_gps_jumps, flag_stationary, flag_values
from .headers import MET, POLLUTANTS

__all__ = ["join_track", "merge_instruments", "clean_points", "apply_lag"]


def join_track(track: pd.DataFrame, inst: pd.DataFrame, *, max_gap_s: float, flags: FlagLog) -> pd.DataFrame:
    """Interpolate track positions at the instrument's times (within ``max_gap_s`` of a fix)."""
    tr = track[track["lon"].notna() & track["time"].notna()].sort_values("t")
    tt, x, y = tr["t"].to_numpy(), tr["lon"].to_numpy(), tr["lat"].to_numpy()
    it = inst["t"].to_numpy()
    idx = np.searchsorted(tt, it)
    lo = np.clip(idx - 1, 0, len(tt) - 1)
    hi = np.clip(idx, 0, len(tt) - 1)
    gap = np.minimum(np.abs(it - tt[lo]), np.abs(tt[hi] - it))
    ok = (gap <= max_gap_s) & (it >= tt[0] - max_gap_s) & (it <= tt[-1] + max_gap_s) & np.isfinite(it)
    out = inst.copy()
    out["lon"] = np.where(ok, np.interp(it, tt, x), np.nan)
    out["lat"] = np.where(ok, np.interp(it, tt, y), np.nan)
    for c in MET:
        if c in tr and c not in out:
            out[c] = np.where(ok, np.interp(it, tt, tr[c].to_numpy()), np.nan)
    bad = ~ok & np.isfinite(it)
    if bad.any():
        f = inst.loc[bad]
        for fid, g in f.groupby("file"):
            flags.add("NO_GPS_FIX", file=fid, rows=g["row"], times=g["time"], detail=f"no GPS fix within {max_gap_s:g} s")
    return out


def merge_instruments(tracks: list[pd.DataFrame], joined: list[pd.DataFrame], flags: FlagLog | None = None) -> pd.DataFrame:
    """Put the instruments' pollutants on the GPS fixes, one row per fix.

    Each instrument row goes to its nearest fix within ``max(1.5 s, 0.6 × the GPS interval)``; several rows on one
    fix (a 10 Hz analyser on a 1 Hz GPS) are averaged. Rows that reach no fix are flagged ``NO_GPS_FIX``.
    """
    base = pd.concat(tracks, ignore_index=True)
    base = base.sort_values("t", kind="stable").reset_index(drop=True)
    bt = base["t"].to_numpy(float)
    dt = np.diff(bt[np.isfinite(bt)])
    tol = max(1.5, 0.6 * float(np.median(dt[dt > 0]))) if (dt > 0).any() else 1.5
    for j in joined:
        j = j[j["_ok"]].sort_values("t")
        cols = [c for c in POLLUTANTS if c in j]
        if not cols or not len(j):
            continue
        jt = j["t"].to_numpy(float)
        k = np.clip(np.searchsorted(bt, jt), 1, len(bt) - 1) if len(bt) > 1 else np.zeros(len(jt), int)
        if len(bt) > 1:
            k = np.where(np.abs(bt[k - 1] - jt) <= np.abs(bt[k] - jt), k - 1, k)
        ok = np.abs(bt[k] - jt) <= tol
        if flags is not None and (~ok).any():
            miss = j.loc[~ok]
            for fid, g in miss.groupby("file"):
                flags.add("NO_GPS_FIX", file=str(fid), rows=g["row"], times=g["time"], detail=f"no GPS fix within {tol:g} s to attach to")
        agg = j.loc[ok, cols].groupby(k[ok]).mean()
        for c in cols:
            v = np.full(len(base), np.nan)
            v[agg.index.to_numpy()] = agg[c].to_numpy()
            base[c] = np.where(np.isfinite(v), v, base[c]) if c in base else v
    return base


def clean_points(pts: pd.DataFrame, flags: FlagLog, units: dict, *, lag_s, max_speed_kmh: float, stationary_s: float) -> pd.DataFrame:
    pts = pts.sort_values(["trip", "t"], kind="stable").reset_index(drop=True) if len(pts) else pts
    valid = pts["_ok"].to_numpy() & np.isfinite(pts["lon"].to_numpy()) & np.isfinite(pts["lat"].to_numpy()) & pts["time"].notna().to_numpy()
    stationary = np.zeros(len(pts), bool)
    for trip, idx in pts.groupby("trip", sort=False).indices.items():
        sel = idx[valid[idx]]
        if len(sel) < 2:
            continue
        t, lon, lat = pts["t"].to_numpy()[sel], pts["lon"].to_numpy()[sel], pts["lat"].to_numpy()[sel]
        jump = flag_gps_jumps(t, lon, lat, max_speed_kmh=max_speed_kmh)
        if jump.any():
            j = sel[jump]
            flags.add("GPS_JUMP", file=str(trip), rows=pts["row"].to_numpy()[j], times=pts["time"].iloc[j], column="lon/lat",
                      detail=f"implied speed > {max_speed_kmh:g} km/h")
            valid[j] = False
            sel = sel[~jump]
            t, lon, lat = t[~jump], lon[~jump], lat[~jump]
        spd = pts["speed"].to_numpy(float)[sel] if "speed" in pts else None
        st = flag_stationary(t, lon, lat, min_s=stationary_s, speed=spd)
        if st.any():
            s = sel[st]
            flags.add("STATIONARY", file=str(trip), rows=pts["row"].to_numpy()[s], times=pts["time"].iloc[s],
                      detail=f"stationary for more than {stationary_s:g} s")
            stationary[s] = True
    pts["valid"] = valid
    for c in [c for c in POLLUTANTS if c in pts]:
        v = pts[c].to_numpy(float).copy()
        for code, mask in flag_values(c, v).items():
            mask = mask & valid
            if mask.any():
                for fid, g in pts.loc[mask, ["file", "row", "time"]].groupby("file"):
                    flags.add(code, file=str(fid), rows=g["row"], times=g["time"], column=c, values=v[g.index])
                v[mask] = np.nan
        pts[c] = v
    apply_lag(pts, flags, lag_s)
    pts["mappable"] = pts["valid"] & ~stationary
    return pts.drop(columns=["_ok"])


def apply_lag(pts: pd.DataFrame, flags: FlagLog, lag_s) -> None:
    if not lag_s:
        return
    cols = [c for c in POLLUTANTS if c in pts]
    if lag_s == "estimate":
        if len(cols) < 2:
            return
        ref = cols[0]
        lags = {}
        for c in cols[1:]:
            lag, r = estimate_lag(pts[ref].to_numpy(), pts[c].to_numpy())
            lags[c] = (lag, f"estimated by cross-correlation with {ref} (r={r:.2f})")
    else:
        lags = {c: (float(v), "configured") for c, v in dict(lag_s).items() if c in pts}
    for c, (lag, how) in lags.items():
        if not lag:
            continue
        for trip, g in pts.groupby("trip", sort=False):
            t = g["t"].to_numpy()
            j = np.searchsorted(t, t + lag)
            ok = (j < len(t))
            jj = np.clip(j, 0, len(t) - 1)
            ok &= np.abs(t[jj] - (t + lag)) <= 1.0
            src = g[c].to_numpy()
            pts.loc[g.index, c] = np.where(ok, src[jj], np.nan)
        flags.add("LAG_SHIFT", file="*", column=c, detail=f"{c} shifted {lag:+g} s ({how})")
