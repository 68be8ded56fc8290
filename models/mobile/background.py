"""Background and excess concentrations along a mobile-monitoring track.

The background of each pollutant is a rolling low percentile in time (Brantley et al. 2014, *Atmos. Meas.
Tech.* 7, 2169: a time-based rolling 5th percentile separates the slowly varying regional level from local
plumes) or a rolling median; the excess is signal − background. Computed per trip on valid rows only.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from parkscan.aoi.errors import ModelError

__all__ = ["background", "add_background"]


def background(t: np.ndarray, values: np.ndarray, *, method: str = "percentile", window_s: float = 300.0, q: float = 0.05,
               min_points: int = 10) -> np.ndarray:
    """Rolling background of one pollutant on one trip.

    Parameters
    ----------
    t : ndarray
        Seconds (increasing).
    values : ndarray
        Concentrations (NaN ignored).
    method : {"percentile", "median"}
        Rolling low percentile ``q`` (Brantley et al. 2014) or rolling median.
    window_s : float
        Centred window length, seconds.
    q : float
        Percentile for ``method="percentile"`` (0–1).
    min_points : int
        Fewer valid values in a window give the trip-wide percentile instead.

    Examples
    --------
    >>> t = np.arange(600.0)
    >>> v = np.full(600, 10.0); v[300:310] = 100
    >>> bool(np.allclose(background(t, v), 10))
    True
    """
    if method not in ("percentile", "median"):
        raise ModelError(f"unknown background method {method!r}; use 'percentile' or 'median'")
    v = np.asarray(values, float)
    if v.size == 0:
        return v.copy()
    qq = 0.5 if method == "median" else q
    s = pd.Series(v, index=pd.to_datetime(np.asarray(t, float), unit="s"))
    if not s.index.is_monotonic_increasing:
        raise ModelError("background(): times must be increasing within a trip")
    roll = s.rolling(f"{int(window_s)}s", center=True, min_periods=min_points).quantile(qq).to_numpy()
    fallback = np.nanquantile(v, qq) if np.isfinite(v).any() else np.nan
    return np.where(np.isfinite(roll), roll, fallback)


def add_background(points: pd.DataFrame, pollutants, *, method: str = "percentile", window_s: float = 300.0, q: float = 0.05) -> pd.DataFrame:
    """Add ``bg_<p>`` and ``ex_<p>`` (excess = value − background, NaN where invalid) columns per pollutant.

    ``points`` must hold ``trip``, ``t``, ``valid`` and the pollutant columns, sorted by trip and time.
    """
    out = points.copy()
    valid = out["valid"].to_numpy()
    for p in pollutants:
        bg = np.full(len(out), np.nan)
        vals = np.where(valid, out[p].to_numpy(float), np.nan)
        for _, idx in out.groupby("trip", sort=False).indices.items():
            bg[idx] = background(out["t"].to_numpy()[idx], vals[idx], method=method, window_s=window_s, q=q)
        out[f"bg_{p}"] = bg
        out[f"ex_{p}"] = vals - bg
    return out
