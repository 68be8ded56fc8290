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

__all__ = ["HeatSourceParams", "cluster_detections", "observed_span", "split_cluster"]

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
    split: bool = True
    """Split a DBSCAN cluster holding several nearby sources with a Gaussian mixture (BIC), see :func:`split_cluster`."""
    scatter_m: float | None = None
    """Expected geolocation scatter of one source (default 180 m VIIRS / 450 m MODIS)."""


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


def split_cluster(xy: np.ndarray, *, scatter_m: float, max_k: int = 4, min_size: int = 4, seed: int = 0) -> np.ndarray:
    """Sub-labels of one cluster: a spherical Gaussian mixture with k = 1..max_k chosen by BIC.

    DBSCAN chains nearby stacks (a few hundred metres apart, each scattered by the sensor's geolocation
    error) into one cluster. A split is kept only when BIC prefers it by more than 6, every component holds at least
    ``min_size`` detections, and the component means are more than ``1.5 × scatter_m`` apart.
    """
    from sklearn.mixture import GaussianMixture

    n = len(xy)
    if n < 2 * min_size:
        return np.zeros(n, int)
    spread = float(np.sqrt(np.mean(np.sum((xy - xy.mean(0)) ** 2, axis=1)) / 2))
    if spread < 1.1 * scatter_m:
        return np.zeros(n, int)
    best, best_bic = np.zeros(n, int), np.inf
    for k in range(1, min(max_k, n // min_size) + 1):
        gm = GaussianMixture(k, covariance_type="spherical", random_state=seed, n_init=2,
                             reg_covar=(0.25 * scatter_m) ** 2).fit(xy)
        bic = gm.bic(xy)
        lab = gm.predict(xy)
        sizes = np.bincount(lab, minlength=k)
        if k > 1:
            d = np.hypot(*(gm.means_[:, None, :] - gm.means_[None, :, :]).transpose(2, 0, 1))
            sep = d[np.triu_indices(k, 1)].min()
            if sizes.min() < min_size or sep < 1.5 * scatter_m:
                continue
        if bic < best_bic - (6.0 if k > 1 else 0.0):  # ΔBIC > 6: "strong" evidence (Kass & Raftery 1995)
            best, best_bic = lab, bic
    return best


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
    xy = v[["x", "y"]].to_numpy()
    labels = DBSCAN(eps=eps, min_samples=p.min_samples).fit_predict(xy)
    if p.split:
        scatter = p.scatter_m or (450.0 if sensor == "MODIS" else 180.0)
        nxt = labels.max() + 1
        for cid in np.unique(labels[labels >= 0]):
            idx = np.flatnonzero(labels == cid)
            sub = split_cluster(xy[idx], scatter_m=scatter)
            for k in np.unique(sub)[1:]:
                labels[idx[sub == k]] = nxt
                nxt += 1
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
