"""Persistent heat sources from FIRMS active-fire detections.

Detections (valid rows of :func:`parkscan.sources.readers.firms.read_firms`) over the park and
its ring are projected to the park's metric CRS and clustered with DBSCAN (``eps`` in metres,
default 500 m for VIIRS (375 m pixels, ~±300 m scatter of a fixed source), 1000 m for MODIS). For each cluster:
persistence = distinct detection dates / days in the observed span; FRP statistics; night share.

A cluster is a **persistent heat source** (industrial: furnaces, flares, kilns, power plants) when it
is seen on at least ``min_dates`` distinct dates, its persistence is at least ``min_persistence``,
and it is compact; when the FIRMS ``type`` column is present, a majority of type 2 ("other static
land source") makes it persistent and a majority of type 0 ("presumed vegetation fire") makes it a
vegetation fire regardless. ``type`` is used when present, never required. The others (one-off or
spreading fires) are kept apart as ``transient`` (likely vegetation or agricultural burning).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["HeatSourceParams", "cluster_detections", "observed_span"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeatSourceParams:
    """Thresholds of the heat-source clustering."""

    eps_m: float | None = None
    """DBSCAN radius in metres (default 500 VIIRS / 1000 MODIS)."""
    min_samples: int = 2
    """DBSCAN minimum detections per core point."""
    min_dates: int = 3
    """Distinct dates a persistent source needs."""
    min_persistence: float = 0.02
    """Distinct dates / days in the span a persistent source needs."""
    max_radius_m: float = 1000.0
    """A persistent source is compact: 90th-percentile distance to its centre below this."""
    ring_m: float = 3000.0
    """Detections within the park footprint buffered by this are used."""


def observed_span(df: pd.DataFrame, period: tuple[str, str] | None = None) -> tuple[pd.Timestamp, pd.Timestamp, int]:
    """(first, last, n_days) of the observation period: the given period, else the file's dates."""
    if period is not None:
        a, b = pd.Timestamp(period[0]), pd.Timestamp(period[1])
    else:
        d = pd.to_datetime(df.loc[df["valid"], "date"]) if len(df) else pd.Series(dtype="datetime64[ns]")
        if d.empty:
            return pd.NaT, pd.NaT, 0
        a, b = d.min(), d.max()
    return a, b, int((b - a).days) + 1


def cluster_detections(
    df: pd.DataFrame,
    park: Any,
    *,
    params: HeatSourceParams | None = None,
    period: tuple[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cluster FIRMS detections over a park into heat sources.

    Parameters
    ----------
    df : pandas.DataFrame
        From :func:`read_firms` (only ``valid`` rows are used).
    park : Park
        The park (its metric CRS and footprint).
    params : HeatSourceParams, optional
        Thresholds.
    period : (start, end) ISO dates, optional
        Observation period; default the span of the file's valid dates.

    Returns
    -------
    clusters : pandas.DataFrame
        One row per cluster: cluster_id, lon, lat, x, y, n_detections, n_dates, first_date, last_date,
        persistence, span_days, frp_mean, frp_median, frp_max, frp_sum, night_fraction, radius_m,
        type_majority, inside_park, distance_to_park_m, cls (``persistent`` | ``transient`` | ``vegetation``).
    detections : pandas.DataFrame
        The used detections with ``x``, ``y`` and ``cluster`` (-1 = noise, a lone detection).

    Examples
    --------
    >>> clusters, det = cluster_detections(read_firms("firms.csv"), park)  # doctest: +SKIP
    >>> clusters[clusters.cls == "persistent"]  # doctest: +SKIP
    """
    import shapely
    from sklearn.cluster import DBSCAN

    p = params or HeatSourceParams()
    v = df[df["valid"]].copy() if "valid" in df else df.copy()
    sensor = str(df.attrs.get("sensor") or (v["sensor"].iloc[0] if len(v) and "sensor" in v else "VIIRS"))
    eps = p.eps_m or (1000.0 if sensor == "MODIS" else 500.0)
    fp = park.to_local(park.footprint)
    x, y = park.lonlat_to_xy(v["longitude"].to_numpy(), v["latitude"].to_numpy())
    v["x"], v["y"] = x, y
    pts = shapely.points(x, y)
    dist = shapely.distance(fp, pts) if len(v) else np.zeros(0)
    v["distance_to_park_m"] = dist
    v = v[dist <= p.ring_m].reset_index(drop=True)
    first, last, span = observed_span(df, period)
    cols = ["cluster_id", "lon", "lat", "x", "y", "n_detections", "n_dates", "first_date", "last_date", "persistence",
            "span_days", "frp_mean", "frp_median", "frp_max", "frp_sum", "night_fraction", "radius_m", "type_majority",
            "inside_park", "distance_to_park_m", "cls"]
    if v.empty:
        v["cluster"] = pd.Series(dtype=int)
        return pd.DataFrame(columns=cols), v
    labels = DBSCAN(eps=eps, min_samples=p.min_samples).fit_predict(v[["x", "y"]].to_numpy())
    v["cluster"] = labels
    rows = []
    # lone detections form clusters of one (transient by construction)
    lab = labels.copy()
    nxt = lab.max() + 1
    for i in np.flatnonzero(lab < 0):
        lab[i] = nxt
        nxt += 1
    v["cluster_all"] = lab
    has_type = "type" in v and v["type"].notna().any()
    for cid, g in v.groupby("cluster_all", sort=True):
        frp = g["frp"].to_numpy(float)
        w = np.clip(frp, 1e-3, None)
        cx, cy = float(np.average(g["x"], weights=w)), float(np.average(g["y"], weights=w))
        r = np.hypot(g["x"] - cx, g["y"] - cy)
        dates = g["date"].unique()
        n_dates = len(dates)
        pers = n_dates / span if span else 0.0
        tmaj = None
        if has_type and g["type"].notna().any():
            tmaj = int(g["type"].dropna().astype(int).mode().iloc[0])
        radius = float(np.quantile(r, 0.9)) if len(r) > 1 else 0.0
        persistent = n_dates >= p.min_dates and pers >= p.min_persistence and radius <= p.max_radius_m
        if tmaj == 2:
            persistent = n_dates >= 2
        cls = "persistent" if persistent else "transient"
        if tmaj == 0:
            cls = "vegetation"
        lon, lat = park.xy_to_lonlat(cx, cy)
        dpark = float(shapely.distance(fp, shapely.points(cx, cy)))
        night = g["daynight"].eq("N").mean() if "daynight" in g else np.nan
        rows.append({
            "cluster_id": int(cid), "lon": float(lon), "lat": float(lat), "x": cx, "y": cy,
            "n_detections": int(len(g)), "n_dates": int(n_dates), "first_date": str(min(dates)), "last_date": str(max(dates)),
            "persistence": float(pers), "span_days": int(span), "frp_mean": float(np.mean(frp)),
            "frp_median": float(np.median(frp)), "frp_max": float(np.max(frp)), "frp_sum": float(np.sum(frp)),
            "night_fraction": float(night), "radius_m": radius, "type_majority": tmaj,
            "inside_park": dpark <= 0.0, "distance_to_park_m": dpark, "cls": cls,
        })
    out = pd.DataFrame(rows, columns=cols).sort_values(["cls", "n_dates"], ascending=[True, False]).reset_index(drop=True)
    log.info("%d detections → %d clusters (%d persistent)", len(v), len(out), int((out.cls == "persistent").sum()))
    return out, v.drop(columns=["cluster_all"])
