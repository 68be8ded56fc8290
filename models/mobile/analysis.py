"""The mobile-monitoring analysis: background → peaks → segments → Gi* hotspots → upwind attribution.

:func:`analyse` takes a :class:`~parkscan.sources.mobile.MobileRun` and returns a :class:`MobileAnalysis`
holding every table the diagnostics, the CLI and the evaluation need.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyproj

from parkscan.aoi.errors import ModelError

from .attribution import FINGERPRINTS, circular_mean_deg, fingerprint_similarity, multi_pass_scores
from .background import add_background
from .hotspots import gi_star, hotspot_clusters
from .lag import estimate_lag_from_peaks, shift_series
from .peaks import find_peaks, group_peak_locations
from .segments import Segments, build_segments, local_crs, seeds_from_roads

__all__ = ["MobileAnalysis", "analyse", "enterprise_xy"]

log = logging.getLogger(__name__)


@dataclass
class MobileAnalysis:
    """Everything :func:`analyse` found."""

    points: pd.DataFrame
    """The run's points with ``x``, ``y``, ``segment``, ``pass_id``, ``bg_<p>``, ``ex_<p>``."""
    segments: Segments
    """Segments with per-pollutant medians, pass counts, and ``z_<p>``, ``p_<p>``, ``q_<p>``, ``hot_<p>``."""
    peaks: pd.DataFrame
    """Peaks of all pollutants with ``location`` (grouped across passes) and ``recurrence``."""
    hotspots: pd.DataFrame
    """One row per (multi-pollutant) hotspot with evidence, wind and candidate enterprises."""
    enterprise_scores: pd.DataFrame
    """Enterprises ranked by attribution score (empty without enterprises)."""
    pollutants: tuple[str, ...]
    """Pollutants analysed."""
    units: dict[str, str | None]
    """Units of the pollutants."""
    crs: pyproj.CRS
    """Metric CRS of x/y."""
    wind: dict[str, Any] = field(default_factory=dict)
    """Wind used: ``from_deg``, ``speed_ms``, ``source`` (file | given | none)."""
    params: dict[str, Any] = field(default_factory=dict)
    """Parameters used."""


def enterprise_xy(enterprises, crs: pyproj.CRS) -> tuple[np.ndarray, np.ndarray]:
    """Metric x/y of an enterprise table (GeoDataFrame or DataFrame with lon/lat)."""
    if enterprises is None or len(enterprises) == 0:
        return np.zeros(0), np.zeros(0)
    if "lon" in enterprises and "lat" in enterprises:
        lon, lat = enterprises["lon"].to_numpy(float), enterprises["lat"].to_numpy(float)
    else:
        lon, lat = enterprises.geometry.x.to_numpy(), enterprises.geometry.y.to_numpy()
    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return tr.transform(lon, lat)


def _point_wind(points: pd.DataFrame, mask: np.ndarray) -> tuple[float | None, float | None, float]:
    if "wind_dir" not in points or not np.isfinite(points["wind_dir"].to_numpy(float)[mask]).any():
        return None, None, 0.0
    wd = points["wind_dir"].to_numpy(float)[mask]
    ws = points["wind_speed"].to_numpy(float)[mask] if "wind_speed" in points else np.ones(mask.sum())
    mean, r = circular_mean_deg(wd, np.where(np.isfinite(ws), np.maximum(ws, 0.1), 1.0))
    return mean, float(np.nanmedian(ws)) if np.isfinite(ws).any() else None, r


def analyse(run, *, crs: pyproj.CRS | None = None, enterprises=None, wind: Mapping[str, float] | None = None,
            spacing_m: float = 30.0, band_m: float = 100.0, alpha: float = 0.05, min_passes: int = 4,
            background: str = "percentile", window_s: float = 300.0, q: float = 0.05, k: float = 0.5,
            half_angle: float = 45.0, max_dist_m: float = 2000.0, permutations: int = 0,
            lag: str | Mapping[str, float] | None = "auto", roads=None) -> MobileAnalysis:
    """Analyse a mobile-monitoring run.

    Parameters
    ----------
    run : MobileRun
        From :func:`parkscan.sources.mobile.read_mobile`.
    crs : pyproj.CRS, optional
        Metric CRS (the park's; default the UTM zone of the track).
    enterprises : (Geo)DataFrame, optional
        ``enterprise_id``, ``name``, ``industry``, ``lon``/``lat`` or Point geometry (WGS-84).
    wind : {"from_deg": float, "speed_ms": float}, optional
        Used when the files carry no wind (风向/风速); file wind wins.
    spacing_m, band_m, alpha, min_passes : float
        Segment length, Gi* neighbour band, FDR level, passes for a reliable segment.
    background, window_s, q, k : str, float
        Background method (``percentile`` | ``median``), window, percentile, peak threshold factor.
    half_angle, max_dist_m : float
        Upwind sector half-angle (degrees) and search radius (m).
    permutations : int
        Gi* permutations (0 = analytical).
    lag : "auto", {pollutant: seconds} or None
        Instrument lag: estimated from repeated peaks (:mod:`.lag`), configured, or not corrected.
    roads : GeoDataFrame or path, optional
        Road lines (e.g. OSM): segments are cut along them instead of from the tracks.
    """
    pollutants = tuple(run.pollutants)
    if not pollutants:
        raise ModelError("the run has no pollutant with valid values: nothing to analyse")
    pts = run.points
    crs = crs or local_crs(pts.loc[pts["valid"], "lon"].to_numpy(), pts.loc[pts["valid"], "lat"].to_numpy())
    pts = pts.copy()
    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    pts["x"], pts["y"] = tr.transform(pts["lon"].to_numpy(float), pts["lat"].to_numpy(float))
    pts = add_background(pts, pollutants, method=background, window_s=window_s, q=q)
    lags: dict[str, Any] = {}
    if lag == "auto" or isinstance(lag, Mapping):
        for p in pollutants:
            if isinstance(lag, Mapping):
                L, info = int(lag.get(p, 0)), {"reason": "configured"}
            else:
                L, info = estimate_lag_from_peaks(pts, find_peaks(pts, p, k=k))
            lags[p] = {"lag_s": L, **info}
            if L:
                pts[p] = shift_series(pts, p, L)
        shifted = [p for p in pollutants if lags[p]["lag_s"]]
        if shifted:
            pts = add_background(pts, shifted, method=background, window_s=window_s, q=q)
    seeds = None if roads is None else seeds_from_roads(roads, crs, spacing_m)
    seg = build_segments(pts, pollutants, crs=crs, spacing_m=spacing_m, min_passes=min_passes, seeds=seeds)
    pts["segment"] = seg.point_segment
    pts["pass_id"] = seg.point_pass
    table = seg.table
    for p in pollutants:
        col = f"ex_{p}" if f"ex_{p}" in table else p
        try:
            g = gi_star(table["x"].to_numpy(), table["y"].to_numpy(), table[col].to_numpy(float), band_m=band_m, alpha=alpha,
                        permutations=permutations)
        except ModelError as err:
            log.warning("Gi* skipped for %s: %s", p, err)
            g = pd.DataFrame({"z": np.nan, "p": np.nan, "q": np.nan, "hot": False, "cold": False}, index=table.index)
        for c in ("z", "p", "q", "hot"):
            table[f"{c}_{p}"] = g[c].to_numpy()
    # peaks
    plist = [find_peaks(pts, p, k=k) for p in pollutants]
    peaks = pd.concat([x for x in plist if len(x)], ignore_index=True) if any(len(x) for x in plist) else plist[0]
    peaks["location"] = group_peak_locations(peaks) if len(peaks) else []
    if len(peaks):
        peaks["segment"] = _nearest_segment(table, peaks["x"].to_numpy(), peaks["y"].to_numpy())
    ex, ey = enterprise_xy(enterprises, crs)
    hotspots, ent_scores = _hotspots(pts, table, peaks, pollutants, run.units, enterprises, ex, ey, wind=wind, band_m=band_m,
                                     half_angle=half_angle, max_dist_m=max_dist_m, min_passes=min_passes)
    w_mean, w_speed, w_r = _point_wind(pts, pts["valid"].to_numpy())
    wind_used = ({"from_deg": w_mean, "speed_ms": w_speed, "steadiness": w_r, "source": "file"} if w_mean is not None else
                 ({"from_deg": float(wind["from_deg"]), "speed_ms": wind.get("speed_ms"), "source": "given"} if wind else {"source": "none"}))
    return MobileAnalysis(points=pts, segments=seg, peaks=peaks, hotspots=hotspots, enterprise_scores=ent_scores, pollutants=pollutants,
                          units=dict(run.units), crs=crs, wind=wind_used,
                          params=dict(spacing_m=spacing_m, band_m=band_m, alpha=alpha, min_passes=min_passes, background=background,
                                      window_s=window_s, q=q, k=k, half_angle=half_angle, max_dist_m=max_dist_m, permutations=permutations,
                                      lags=lags))


def _nearest_segment(table: pd.DataFrame, x, y) -> np.ndarray:
    from scipy.spatial import cKDTree

    return cKDTree(table[["x", "y"]].to_numpy()).query(np.column_stack([x, y]))[1]


def _hotspots(pts, table, peaks, pollutants, units, enterprises, ex, ey, *, wind, band_m, half_angle, max_dist_m, min_passes):
    x, y = table["x"].to_numpy(), table["y"].to_numpy()
    clusters = []
    for p in pollutants:
        hot = table[f"hot_{p}"].to_numpy(bool)
        lab = hotspot_clusters(x, y, hot, link_m=band_m)
        col = f"ex_{p}" if f"ex_{p}" in table else p
        for c in range(lab.max() + 1 if lab.size and lab.max() >= 0 else 0):
            members = np.flatnonzero(lab == c)
            top = members[np.nanargmax(table[col].to_numpy(float)[members])]
            clusters.append({"pollutant": p, "members": members, "top": int(top), "x": x[top], "y": y[top]})
    cols = ["hotspot_id", "pollutants", "lon", "lat", "x", "y", "segment_ids", "top_segment", "n_segments", "n_passes", "reliable",
            "values", "excess", "background", "z", "p", "q", "peak_recurrence", "wind_from", "wind_speed", "wind_source",
            "wind_steadiness", "candidates", "enterprise_id", "enterprise_name", "attribution_confidence", "fingerprint",
            "severity", "confidence"]
    if not clusters:
        return pd.DataFrame(columns=cols), _empty_scores(enterprises)
    # merge clusters of different pollutants whose tops are within 150 m or which share segments
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(clusters)
    rows, cols_ = [], []
    for i in range(n):
        for j in range(i + 1, n):
            if np.hypot(clusters[i]["x"] - clusters[j]["x"], clusters[i]["y"] - clusters[j]["y"]) <= 150 or \
                    np.intersect1d(clusters[i]["members"], clusters[j]["members"]).size:
                rows.append(i)
                cols_.append(j)
    comp = connected_components(coo_matrix((np.ones(len(rows)), (rows, cols_)), shape=(n, n)), directed=False)[1]
    sd = {p: _robust_scale(table[f"ex_{p}"].to_numpy(float) if f"ex_{p}" in table else table[p].to_numpy(float)) for p in pollutants}
    mp = pts["mappable"].to_numpy()
    pt_sd = {p: _robust_scale(pts[f"ex_{p}"].to_numpy(float)[mp]) for p in pollutants}
    recs = []
    ent_total = np.zeros(len(ex))
    ent_best = np.zeros(len(ex))
    for h in range(comp.max() + 1):
        group = [clusters[i] for i in np.flatnonzero(comp == h)]
        members = np.unique(np.concatenate([g["members"] for g in group]))
        # the strongest pollutant (largest excess in robust SDs) sets the location
        best = max(group, key=lambda g: _exc(table, g["pollutant"], g["top"]) / sd[g["pollutant"]])
        top = best["top"]
        hp = sorted({g["pollutant"] for g in group}, key=pollutants.index)
        values = {p: _val(table, p, top) for p in hp}
        excess = {p: _exc(table, p, top) for p in hp}
        bgv = {p: values[p] - excess[p] if np.isfinite(values[p]) and np.isfinite(excess[p]) else np.nan for p in hp}
        zs = {p: float(np.nanmax(table[f"z_{p}"].to_numpy(float)[members])) if np.isfinite(table[f"z_{p}"].to_numpy(float)[members]).any() else 0.0 for p in pollutants}
        qv = {p: float(np.nanmin(table[f"q_{p}"].to_numpy(float)[members])) for p in hp}
        pv = {p: float(np.nanmin(table[f"p_{p}"].to_numpy(float)[members])) for p in hp}
        npass = int(table["n_passes"].to_numpy()[top])
        # recurrence: fraction of passes over the hotspot's segments that saw a peak of its pollutants
        near = peaks[peaks["segment"].isin(members) & peaks["pollutant"].isin(hp)] if len(peaks) else peaks
        seg_passes = max(1, int(table["n_passes"].to_numpy()[members].max()))
        recurrence = min(1.0, (near["trip"].astype(str) + near["t_start"].floordiv(600).astype(str)).nunique() / seg_passes) if len(near) else 0.0
        drives = _drive_throughs(pts, members, hp, pt_sd, wind)
        if len(drives) and np.isfinite(drives["wind_from"]).any():
            wts = np.where(drives["elevation"] >= 1.0, drives["elevation"], 0.0)
            if wts.sum() == 0:
                wts = np.ones(len(drives))
            wf, wr = circular_mean_deg(drives["wind_from"].to_numpy(), wts)
            wsp = float(np.nanmedian(drives["wind_speed"])) if np.isfinite(drives["wind_speed"]).any() else None
            wsrc = drives["wind_source"].iat[0]
        else:
            wf, wsp, wr, wsrc = None, None, 0.0, "none"
        elev = {p: max(0.0, zs[p]) for p in pollutants}
        fp_best = max(FINGERPRINTS, key=lambda k: fingerprint_similarity(elev, k) or 0.0) if any(elev.values()) else None
        fp_sim = fingerprint_similarity(elev, fp_best) if fp_best else None
        cands: list[dict[str, Any]] = []
        ent_id = ent_name = None
        att_conf = 0.0
        sc = None
        if len(ex):
            sim = np.array([np.nan if (v := fingerprint_similarity(elev, ind)) is None else v for ind in enterprises["industry"]]) \
                if "industry" in enterprises else None
            sc = multi_pass_scores(ex, ey, x[top], y[top], drives, half_angle=half_angle, max_dist_m=max_dist_m, similarity=sim)
            order = np.argsort(-sc["score"].to_numpy())[:5]
            tot = sc["score"].sum()
            for i in order:
                if sc["score"].iat[i] <= 0:
                    break
                cands.append({"enterprise_id": str(enterprises["enterprise_id"].iat[i]), "name": str(enterprises["name"].iat[i]) if "name" in enterprises else "",
                              "industry": None if "industry" not in enterprises or pd.isna(enterprises["industry"].iat[i]) else str(enterprises["industry"].iat[i]),
                              "distance_m": round(float(sc["distance_m"].iat[i]), 1), "bearing": round(float(sc["bearing"].iat[i]), 1),
                              "angle_off": None if not np.isfinite(sc["angle_off"].iat[i]) else round(float(sc["angle_off"].iat[i]), 1),
                              "score": round(float(sc["score"].iat[i]), 4), "share": round(float(sc["score"].iat[i] / tot), 3) if tot else 0.0,
                              "fingerprint_similarity": None if sim is None or not np.isfinite(sim[i]) else round(float(sim[i]), 3)})
            if cands:
                second = cands[1]["score"] if len(cands) > 1 else 0.0
                margin = 1.0 - second / cands[0]["score"]
                att_conf = (0.5 * cands[0]["share"] + 0.5 * margin) * (1.0 if wsrc != "none" else 0.5)
                if att_conf >= 0.4:
                    ent_id, ent_name = cands[0]["enterprise_id"], cands[0]["name"]
        ratio = max((excess[p] / bgv[p]) if np.isfinite(bgv[p]) and bgv[p] > 0 else excess[p] / sd[p] / 3 for p in hp)
        severity = float(np.clip(np.log10(1 + max(ratio, 0)) / np.log10(11) + 0.1 * (len(hp) - 1), 0.05, 1.0))
        qmin = min(qv.values())
        conf = (0.35 + 0.35 * min(1.0, npass / min_passes) + 0.2 * recurrence + 0.1 * (qmin <= 0.01))
        conf = float(np.clip(conf * (0.6 if npass < min_passes else 1.0), 0.05, 0.95))
        weight = severity * conf
        if sc is not None and sc["score"].sum() > 0:
            sv = sc["score"].to_numpy()
            ent_total += weight * sv / sv.sum()
            ent_best = np.maximum(ent_best, weight * sv / sv.max())
        recs.append({
            "hotspot_id": h, "pollutants": hp, "lon": float(table["lon"].iat[top]), "lat": float(table["lat"].iat[top]), "x": x[top], "y": y[top],
            "segment_ids": members.tolist(), "top_segment": int(top), "n_segments": int(members.size), "n_passes": npass,
            "reliable": bool(npass >= min_passes), "values": values, "excess": excess, "background": bgv, "z": {p: zs[p] for p in hp},
            "p": pv, "q": qv, "peak_recurrence": round(recurrence, 3), "wind_from": wf, "wind_speed": wsp, "wind_source": wsrc,
            "wind_steadiness": wr, "candidates": cands, "enterprise_id": ent_id, "enterprise_name": ent_name,
            "attribution_confidence": round(att_conf, 3), "fingerprint": {"industry": fp_best, "similarity": fp_sim, "elevation_z": {p: round(v, 2) for p, v in elev.items()}},
            "severity": severity, "confidence": conf,
        })
    hs = pd.DataFrame(recs, columns=cols)
    hs = hs.iloc[np.argsort(-(hs["severity"] * hs["confidence"]).to_numpy(), kind="stable")].reset_index(drop=True)
    hs["hotspot_id"] = [f"H{i + 1}" for i in range(len(hs))]
    scores = _empty_scores(enterprises)
    if len(ex):
        scores = pd.DataFrame({"enterprise_id": enterprises["enterprise_id"].astype(str).to_numpy(),
                               "name": enterprises["name"].to_numpy() if "name" in enterprises else "",
                               "industry": enterprises["industry"].to_numpy() if "industry" in enterprises else None,
                               "score": ent_best + 0.1 * ent_total}).sort_values("score", ascending=False).reset_index(drop=True)
        scores = scores[scores["score"] > 0].reset_index(drop=True)
        scores["rank"] = np.arange(1, len(scores) + 1)
    return hs, scores


def _empty_scores(enterprises) -> pd.DataFrame:
    return pd.DataFrame(columns=["enterprise_id", "name", "industry", "score", "rank"])


def _robust_scale(v: np.ndarray) -> float:
    v = v[np.isfinite(v)]
    if v.size < 3:
        return 1.0
    s = 1.4826 * np.median(np.abs(v - np.median(v)))
    return float(s) if s > 0 else float(np.std(v) or 1.0)


def _val(table, p, i) -> float:
    return float(table[p].iat[i]) if p in table else float("nan")


def _exc(table, p, i) -> float:
    c = f"ex_{p}" if f"ex_{p}" in table else p
    v = float(table[c].iat[i])
    return v if np.isfinite(v) else float("-inf")


def _drive_throughs(pts: pd.DataFrame, members: np.ndarray, hp, pt_sd: dict, wind) -> pd.DataFrame:
    """One row per uninterrupted drive through a hotspot's segments: elevation (robust SDs) and wind."""
    sel = pts[pts["segment"].isin(members).to_numpy() & pts["mappable"].to_numpy()]
    if not len(sel):
        return pd.DataFrame(columns=["elevation", "wind_from", "wind_speed", "wind_source"])
    tt = sel["t"].to_numpy(float)
    trip = pd.factorize(sel["trip"].to_numpy())[0]
    new = np.ones(len(sel), bool)
    new[1:] = (trip[1:] != trip[:-1]) | (np.diff(tt) > 60.0)
    did = np.cumsum(new) - 1
    z = np.column_stack([sel[f"ex_{p}"].to_numpy(float) / pt_sd[p] for p in hp])
    zmax = np.nanmax(np.where(np.isfinite(z), z, -np.inf), axis=1)
    df = pd.DataFrame({"d": did, "z": np.where(np.isfinite(zmax), zmax, np.nan)})
    elev = (df.groupby("d")["z"].quantile(0.9) - 1.0).clip(lower=0.0).to_numpy()
    n = did.max() + 1
    wf = np.full(n, np.nan)
    wsp = np.full(n, np.nan)
    src = "none"
    if "wind_dir" in sel and np.isfinite(sel["wind_dir"].to_numpy(float)).any():
        wd = sel["wind_dir"].to_numpy(float)
        ws = sel["wind_speed"].to_numpy(float) if "wind_speed" in sel else np.ones(len(sel))
        for d in range(n):
            m = did == d
            wf[d], _ = circular_mean_deg(wd[m], np.where(np.isfinite(ws[m]), np.maximum(ws[m], 0.1), 1.0))
            wsp[d] = np.nanmedian(ws[m]) if np.isfinite(ws[m]).any() else np.nan
        src = "file"
    if src == "none" and wind:
        wf[:] = float(wind["from_deg"])
        wsp[:] = float(wind.get("speed_ms") or np.nan)
        src = "given"
    return pd.DataFrame({"elevation": elev, "wind_from": wf, "wind_speed": wsp, "wind_source": src})
