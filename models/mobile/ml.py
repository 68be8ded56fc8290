"""Machine learning for mobile runs, each compared with the plain statistics on the same data.

* **Land-use-regression-style spatial model** (:func:`lur_dataset`, :func:`lur_cv`): histogram gradient boosting and a
  random forest predict each segment-day's concentration from distance to the nearest enterprise of each
  industry, the wind-relative exposure to each industry (Σ angular weight / (1 + d/500 m) with that day's
  wind), the number of enterprises within 500 m and, given a class raster, the fraction of each land-cover
  class within 100 m and 300 m (:mod:`.landcover_features`; fitted with and without them). They are validated by leave-one-day-out and spatially
  blocked (500 m blocks, GroupKFold) cross-validation against the plain statistics: the mean of the training
  data (null) and inverse-distance interpolation of the training segments (what the segment map offers
  off the driven road).
* **Source apportionment** (:func:`nmf_apportion`): non-negative matrix factorisation (the PMF idea;
  ``sklearn.decomposition.NMF``) of the excess concentrations, each pollutant scaled by its robust spread,
  gives source profiles and their contributions along the track; each profile is matched to the industry
  fingerprints (cosine similarity) and compared with the per-hotspot fingerprint of the plain statistics.
"""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from parkscan.aoi.errors import ModelError

from .attribution import FINGERPRINTS, bearing_deg, circular_mean_deg, fingerprint_similarity, industry_key

__all__ = ["lur_dataset", "lur_cv", "NMFResult", "nmf_apportion"]

log = logging.getLogger(__name__)


def lur_dataset(analysis, enterprises, pollutant: str, *, wind: dict | None = None, landcover=None,
                landcover_buffers_m: Sequence[float] = (100.0, 300.0), landcover_classes: Mapping[int, str] | None = None) -> pd.DataFrame:
    """One row per (segment, day): target ``y`` (median over that day's passes), x, y, day and features ``f_*``.

    ``landcover`` adds the fraction of each land-cover class within ``landcover_buffers_m`` of the segment
    (features ``f_lc_<class>_<r>m``): a class raster path (any CRS, see
    :func:`~parkscan.models.mobile.landcover_features.landcover_fractions`) or the DataFrame returned by
    :func:`~parkscan.models.mobile.landcover_features.segment_landcover` (one row per segment; reuse it across
    pollutants).
    """
    from .analysis import enterprise_xy

    if enterprises is None or len(enterprises) == 0:
        raise ModelError("the spatial model needs an enterprise list (distance and wind-relative features)")
    pts = analysis.points
    m = (pts["segment"] >= 0) & np.isfinite(pts[pollutant])
    p = pts.loc[m, ["segment", "pass_id", "local_date", pollutant, "t"] + [c for c in ("wind_dir", "wind_speed") if c in pts]]
    per_pass = p.groupby(["segment", "pass_id", "local_date"])[pollutant].median().reset_index()
    seg_day = per_pass.groupby(["segment", "local_date"])[pollutant].median().reset_index().rename(columns={pollutant: "y"})
    tb = analysis.segments.table
    seg_day["x"] = tb["x"].to_numpy()[seg_day["segment"].to_numpy()]
    seg_day["yy"] = tb["y"].to_numpy()[seg_day["segment"].to_numpy()]
    # wind per day (file), else given
    winds = {}
    for day, g in p.groupby("local_date"):
        if "wind_dir" in g and np.isfinite(g["wind_dir"]).any():
            winds[day] = circular_mean_deg(g["wind_dir"].to_numpy(float))[0]
        elif wind:
            winds[day] = float(wind["from_deg"])
        else:
            winds[day] = np.nan
    ex, ey = enterprise_xy(enterprises, analysis.crs)
    keys = np.array([industry_key(i) or "other" for i in (enterprises["industry"] if "industry" in enterprises else [None] * len(ex))])
    sx, sy = seg_day["x"].to_numpy(), seg_day["yy"].to_numpy()
    d_all = np.hypot(sx[:, None] - ex[None, :], sy[:, None] - ey[None, :])
    seg_day["f_dist_any"] = np.log1p(d_all.min(axis=1))
    seg_day["f_n500"] = (d_all < 500).sum(axis=1)
    wf = seg_day["local_date"].map(winds).to_numpy(float)
    bear = bearing_deg(ex[None, :] - sx[:, None], ey[None, :] - sy[:, None])
    off = np.abs((bear - wf[:, None] + 180.0) % 360.0 - 180.0)
    ang = np.where(np.isfinite(off), np.exp(-0.5 * (off / 22.5) ** 2), 0.5)
    expo = ang / (1.0 + d_all / 500.0)
    for k in sorted(set(keys)):
        sel = keys == k
        seg_day[f"f_dist_{k}"] = np.log1p(d_all[:, sel].min(axis=1))
        seg_day[f"f_upwind_{k}"] = expo[:, sel].sum(axis=1)
    if landcover is not None:
        if not isinstance(landcover, pd.DataFrame):
            from .landcover_features import segment_landcover

            landcover = segment_landcover(analysis, landcover, buffers_m=landcover_buffers_m, classes=landcover_classes)
        lc = landcover.reindex(seg_day["segment"].to_numpy())
        for c in lc.columns:
            seg_day[c] = lc[c].to_numpy(float)
    return seg_day.rename(columns={"yy": "y_m"}).rename(columns={"local_date": "day"})


def _idw(train_xy, train_v, test_xy, k: int = 8, power: float = 2.0) -> np.ndarray:
    tree = cKDTree(train_xy)
    k = min(k, len(train_xy))
    d, j = tree.query(test_xy, k=k)
    d = np.atleast_2d(d).reshape(len(test_xy), k)
    j = np.atleast_2d(j).reshape(len(test_xy), k)
    w = 1.0 / np.maximum(d, 1.0) ** power
    return (w * train_v[j]).sum(axis=1) / w.sum(axis=1)


def lur_cv(data: pd.DataFrame, *, seed: int = 0, block_m: float = 500.0, n_splits: int = 5) -> pd.DataFrame:
    """Cross-validated skill of GBM and RF against the plain statistics (mean, IDW of segment values).

    When ``data`` has land-cover features (``f_lc_*``), GBM and RF are fitted twice on the same rows and folds:
    without them (models ``gbm``, ``rf``) and with them (``gbm+lc``, ``rf+lc``), so their contribution is
    measured, not assumed. Rows lacking any feature (e.g. outside the land-cover raster) are left out of all models.

    Returns
    -------
    DataFrame
        One row per (scheme, model): ``rmse_log``, ``r2``, ``n_test``, ``folds``. Schemes: ``leave-one-day-out``
        (needs >= 2 days) and ``spatial-blocks``.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
    from sklearn.model_selection import GroupKFold
    from threadpoolctl import threadpool_limits

    feats = [c for c in data.columns if c.startswith("f_")]
    d = data.dropna(subset=["y"] + feats).reset_index(drop=True)
    if len(d) < 30:
        raise ModelError(f"the spatial model needs at least 30 segment-days with values, got {len(d)}")
    base = [c for c in feats if not c.startswith("f_lc_")]
    sets = {"": base} if len(base) == len(feats) else {"": base, "+lc": feats}
    Xs = {k: d[v].to_numpy(float) for k, v in sets.items()}
    X, y = Xs[""], np.log1p(np.clip(d["y"].to_numpy(float), 0, None))
    xy = d[["x", "y_m"]].to_numpy(float)
    schemes = {}
    days = d["day"].astype(str).to_numpy()
    if len(np.unique(days)) >= 2:
        schemes["leave-one-day-out"] = [(np.flatnonzero(days != u), np.flatnonzero(days == u)) for u in np.unique(days)]
    blocks = (np.floor(xy[:, 0] / block_m).astype(int) * 100003 + np.floor(xy[:, 1] / block_m).astype(int))
    nb = len(np.unique(blocks))
    if nb >= 2:
        schemes["spatial-blocks"] = list(GroupKFold(n_splits=min(n_splits, nb)).split(X, y, blocks))
    rows = []
    for scheme, folds in schemes.items():
        models = [f"{m}{k}" for k in sets for m in ("gbm", "rf")] + ["idw", "mean"]
        preds = {m: np.full(len(d), np.nan) for m in models}
        for tr, te in folds:
            for k, Xk in Xs.items():
                with threadpool_limits(limits=1):  # OpenMP spin-waiting on a shared 2-core machine costs more than it gains
                    gbm = HistGradientBoostingRegressor(max_iter=150, max_depth=3, learning_rate=0.08, random_state=seed).fit(Xk[tr], y[tr])
                    rf = RandomForestRegressor(n_estimators=60, min_samples_leaf=5, max_samples=0.5, random_state=seed, n_jobs=1).fit(Xk[tr], y[tr])
                    preds[f"gbm{k}"][te] = gbm.predict(Xk[te])
                    preds[f"rf{k}"][te] = rf.predict(Xk[te])
            preds["idw"][te] = _idw(xy[tr], y[tr], xy[te])
            preds["mean"][te] = y[tr].mean()
        for m, pr in preds.items():
            ok = np.isfinite(pr)
            res = y[ok] - pr[ok]
            ss = ((y[ok] - y[ok].mean()) ** 2).sum()
            rows.append({"scheme": scheme, "model": m, "rmse_log": float(np.sqrt(np.mean(res**2))), "r2": float(1 - (res**2).sum() / ss) if ss > 0 else np.nan,
                         "n_test": int(ok.sum()), "folds": len(folds)})
    return pd.DataFrame(rows)


@dataclass
class NMFResult:
    """Source apportionment of a multi-pollutant run."""

    profiles: pd.DataFrame
    """Factor × pollutant, in the pollutants' units of excess per unit contribution."""
    contributions: pd.DataFrame
    """Per point used (index = points index): contribution of each factor."""
    matches: pd.DataFrame
    """Per factor: best industry fingerprint and its cosine similarity, share of the total signal."""
    r2: float
    """Fraction of the scaled excess explained."""
    k: int
    """Number of factors."""


def nmf_apportion(points: pd.DataFrame, pollutants, *, n_components: int | None = None, seed: int = 0, min_r2: float = 0.9,
                  max_rows: int = 200_000) -> NMFResult:
    """Non-negative factorisation of the excess concentrations (mappable rows with every pollutant)."""
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning

    pollutants = [p for p in pollutants if f"ex_{p}" in points]
    if len(pollutants) < 2:
        raise ModelError("source apportionment needs at least two pollutants")
    E = points[[f"ex_{p}" for p in pollutants]].to_numpy(float)
    ok = points["mappable"].to_numpy() & np.isfinite(E).all(axis=1)
    if ok.sum() < 100:
        raise ModelError(f"source apportionment needs at least 100 complete rows, got {int(ok.sum())}")
    idx = np.flatnonzero(ok)
    if len(idx) > max_rows:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_rows, replace=False))
    E = np.clip(E[idx], 0, None)
    scale = np.array([max(1e-9, 1.4826 * np.median(np.abs(c - np.median(c))) or c.std() or 1.0) for c in E.T])
    Xs = E / scale
    total = (Xs**2).sum()
    ks = [n_components] if n_components else list(range(1, min(6, len(pollutants)) + 1))
    best = None
    for k in ks:
        model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=1000, tol=1e-4)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            W = model.fit_transform(Xs)
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            log.info("NMF with %d factors stopped at the iteration limit; profiles are approximate", k)
        H = model.components_
        r2 = 1 - ((Xs - W @ H) ** 2).sum() / total if total > 0 else 0.0
        best = (k, W, H, r2)
        if r2 >= min_r2:
            break
    k, W, H, r2 = best
    names = [f"F{i + 1}" for i in range(k)]
    prof_scaled = pd.DataFrame(H, index=names, columns=pollutants)
    profiles = prof_scaled * scale
    share = (W.sum(axis=0) * H.sum(axis=1))
    share = share / share.sum() if share.sum() > 0 else share
    m = []
    for i, f in enumerate(names):
        elev = dict(zip(pollutants, prof_scaled.iloc[i].to_numpy()))
        sims = {ind: fingerprint_similarity(elev, ind) for ind in FINGERPRINTS}
        sims = {a: b for a, b in sims.items() if b is not None}
        top = max(sims, key=sims.get) if sims else None
        m.append({"factor": f, "industry": top, "similarity": None if top is None else round(sims[top], 3), "share": round(float(share[i]), 3),
                  "main_pollutants": ",".join(prof_scaled.columns[np.argsort(-prof_scaled.iloc[i].to_numpy())[:3]])})
    return NMFResult(profiles=profiles, contributions=pd.DataFrame(W, index=points.index[idx], columns=names), matches=pd.DataFrame(m), r2=float(r2), k=k)
