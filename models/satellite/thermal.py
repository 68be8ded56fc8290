"""Thermal anomalies: hot roofs, stacks and outfalls against a land-cover-matched local background.

For each stratum (a land-cover class from a class raster; else NDVI quantile bins; else one stratum)
the background of every pixel is the median of the same-stratum *pure* pixels in its neighbourhood
(3×3 blocks of ``block_m``, default 500 m → a 1.5 km window), and its spread the MAD
(× 1.4826); next to class boundaries the background is the mixture of the stratum medians within
the thermal sensor's footprint (Landsat TIRS ≈ 100 m). Blocks with too few same-stratum pixels fall
back to the stratum's park-wide statistics. Robust z = (T − median) / (1.4826 MAD). Pixels with z ≥ ``z_min`` and
T − background ≥ ``dt_min`` K are grouped (8-connected) into anomalies and joined to the
nearest enterprise. An anomaly on water is an ``outfall``, a small very hot one a ``stack``,
the others ``roof``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from parkscan.aoi.errors import ModelError

__all__ = ["ThermalParams", "ThermalResult", "robust_zscore", "thermal_anomalies", "ndvi_strata", "join_enterprises"]

log = logging.getLogger(__name__)
MAD_K = 1.4826


@dataclass(frozen=True)
class ThermalParams:
    """Thresholds of the thermal-anomaly detection."""

    z_min: float = 3.0
    """Robust z a hot pixel needs."""
    dt_min: float = 5.0
    """Excess over the background (K) a hot pixel needs (Landsat ST: ~1–2 K accuracy, mixed 100 m pixels)."""
    min_pixels: int = 2
    """Pixels an anomaly needs."""
    block_m: float = 500.0
    """Block size of the local background (the window is 3×3 blocks)."""
    min_block_pixels: int = 25
    """Same-stratum pixels a window needs, else the stratum-wide statistics are used."""
    dt_min_water: float = 2.0
    """Excess (K) enough on water (a uniform surface: warm cooling-water outfalls), with a class raster naming water."""
    footprint_m: float | None = None
    """Thermal sensor footprint (FWHM, m) for mixed pixels; default the LST's ``footprint_m`` attribute, else 100 m."""
    upper_q: float = 0.9
    """Without land cover: local quantile of the residual taken as background (hotter than the hottest common surfaces)."""
    class_q: float = 0.5
    """With land cover: local quantile of the unmixing residual taken as background."""
    stack_max_pixels: int = 3
    """Anomalies this small and ``stack_dt`` hotter are called ``stack``."""
    stack_dt: float = 8.0
    """Excess (K) of a stack."""
    join_m: float = 250.0
    """Enterprises within this distance (plus half the anomaly's size) are joined."""


@dataclass(frozen=True, eq=False)
class ThermalResult:
    """Anomalies and the rasters behind them."""

    anomalies: pd.DataFrame
    """One row per anomaly (see :func:`thermal_anomalies`)."""
    z: np.ndarray
    """(H, W) robust z-score (NaN where no data)."""
    background: np.ndarray
    """(H, W) local background temperature (K)."""
    delta: np.ndarray
    """(H, W) LST − background (K)."""
    strata: np.ndarray
    """(H, W) stratum code (−1 where no data)."""
    strata_source: str
    """``classes``, ``ndvi`` or ``none``."""


def ndvi_strata(ndvi: np.ndarray, *, n: int = 5) -> np.ndarray:
    """NDVI quantile strata 0..n-1 (−1 where NaN)."""
    out = np.full(ndvi.shape, -1, int)
    fin = np.isfinite(ndvi)
    if fin.sum() < n:
        return np.where(fin, 0, -1)
    edges = np.unique(np.quantile(ndvi[fin], np.linspace(0, 1, n + 1)[1:-1]))
    out[fin] = np.searchsorted(edges, ndvi[fin])
    return out


def _blocks(a: np.ndarray, b: int) -> tuple[np.ndarray, int, int]:
    H, W = a.shape
    BH, BW = -(-H // b), -(-W // b)
    pad = np.full((BH * b, BW * b), np.nan)
    pad[:H, :W] = a
    return pad.reshape(BH, b, BW, b).transpose(0, 2, 1, 3).reshape(BH, BW, b * b), BH, BW


def _local_stats(ts: np.ndarray, b: int, min_block_pixels: int, g_med: float, g_mad: float,
                 q: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Quantile ``q`` (median) and MAD·1.4826 of the finite values of ``ts`` in 3×3 blocks of b×b pixels around each block."""
    import warnings

    H, W = ts.shape
    blk, BH, BW = _blocks(ts, b)
    padded = np.full((BH + 2, BW + 2, b * b), np.nan)
    padded[1:-1, 1:-1] = blk
    nb = np.concatenate([padded[i:i + BH, j:j + BW] for i in range(3) for j in range(3)], axis=-1)
    n_ok = np.isfinite(nb).sum(-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(nb, axis=-1)
        mad = np.nanmedian(np.abs(nb - med[..., None]), axis=-1) * MAD_K
        if q != 0.5:
            med = np.nanquantile(nb, q, axis=-1)
            g_med = float(np.nanquantile(ts, q))
    few = n_ok < min_block_pixels
    med = np.where(few, g_med, med)
    mad = np.where(few, g_mad, mad)
    # floor the spread: sensor noise ~0.5 K and never below a quarter of the stratum-wide spread
    mad = np.maximum(mad, max(0.5, 0.25 * g_mad))
    return np.repeat(np.repeat(med, b, 0), b, 1)[:H, :W], np.repeat(np.repeat(mad, b, 0), b, 1)[:H, :W]


def _fractions(strata: np.ndarray, codes: np.ndarray, sigma_px: float) -> np.ndarray:
    """(C, H, W) stratum fractions seen by a sensor footprint (Gaussian of ``sigma_px``)."""
    from scipy import ndimage

    out = np.stack([(strata == c).astype(float) for c in codes])
    if sigma_px > 0.3 and len(codes) > 1:
        out = np.stack([ndimage.gaussian_filter(f, sigma_px, mode="nearest") for f in out])
    tot = out.sum(0)
    return out / np.where(tot > 0, tot, 1.0)


def _unmix(t: np.ndarray, frac: np.ndarray, xy: tuple[np.ndarray, np.ndarray], ok: np.ndarray, n_iter: int = 4) -> np.ndarray:
    """Robust least-squares end-member temperatures + a planar trend: t ≈ Σ_c frac_c T_c + a·x + b·y.

    Hot targets are outliers: pixels with residuals beyond 3 MAD are dropped and the fit repeated.
    Returns the modelled background (H, W).
    """
    C = frac.shape[0]
    x, y = xy
    A = np.concatenate([frac.reshape(C, -1).T, ((x - x.mean()) / 1000.0).reshape(-1, 1), ((y - y.mean()) / 1000.0).reshape(-1, 1)], 1)
    tt = t.reshape(-1)
    use = ok.reshape(-1).copy()
    coef = np.zeros(A.shape[1])
    for _ in range(n_iter):
        if use.sum() < A.shape[1] * 3:
            break
        coef, *_ = np.linalg.lstsq(A[use], tt[use], rcond=None)
        r = tt - A @ coef
        mad = np.nanmedian(np.abs(r[use] - np.nanmedian(r[use]))) * MAD_K
        use = ok.reshape(-1) & (np.abs(r) <= 3.0 * max(mad, 0.3))
    return (A @ coef).reshape(t.shape)


def robust_zscore(t: np.ndarray, strata: np.ndarray, *, res_m: float, block_m: float = 500.0,
                  min_block_pixels: int = 25, footprint_m: float = 100.0,
                  upper_q: float | None = 0.9, class_q: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Robust z of ``t`` against a land-cover-matched local background, allowing for mixed pixels.

    1. Stratum fractions within the thermal sensor footprint (Landsat TIRS ≈ 100 m, Gaussian of that FWHM).
    2. Robust linear unmixing: one temperature per stratum plus a planar trend, fitted with
       3-MAD trimming so that hot targets do not pull the background (mixed pixels along roads,
       canals and roof edges get the mixture of their strata, not a false anomaly).
    3. The residual's local median (3×3 blocks of ``block_m``) is removed and its spread is the
       stratum-mixed MAD × 1.4826 (floored at 0.5 K). With a single stratum (no land cover) the local
       ``upper_q`` quantile (0.9) replaces the median: an anomaly must be hotter than the hottest common
       surfaces around it (the "quantile strata" fallback).

    Returns
    -------
    z, background, scale : (H, W) arrays
    """
    H, W = t.shape
    b = max(1, int(round(block_m / res_m)))
    fin = np.isfinite(t)
    ok = fin & (strata >= 0)
    codes = np.unique(strata[ok])
    nan = np.full(t.shape, np.nan)
    if not len(codes):
        return nan, nan.copy(), nan.copy()
    frac = _fractions(np.where(ok, strata, -1), codes, footprint_m / 2.3548 / res_m)
    yy, xx = np.meshgrid(np.arange(H) * res_m, np.arange(W) * res_m, indexing="ij")
    model = _unmix(np.where(ok, t, 0.0), frac, (xx, yy), ok)
    resid = np.where(ok, t - model, np.nan)
    g_med = float(np.nanmedian(resid))
    g_mad = float(np.nanmedian(np.abs(resid - g_med))) * MAD_K
    if len(codes) > 1 or upper_q is None:
        loc_med, _ = _local_stats(resid, b, min_block_pixels, g_med, g_mad, q=class_q)
    else:
        # no land cover: compare with the hottest common surfaces around (the local ``upper_q`` quantile),
        # so built-up blocks, roads and roofs at their usual temperature are background and only
        # objects hotter than all of them stand out
        loc_med, _ = _local_stats(resid, b, min_block_pixels, g_med, g_mad, q=upper_q)
    resid2 = resid - loc_med
    # spread per stratum from its purest pixels, mixed like the background
    var = np.zeros(t.shape)
    for k, c in enumerate(codes):
        pure = ok & (frac[k] >= 0.8)
        src = pure if pure.sum() >= 10 else ok & (strata == c)
        rc = resid2[src]
        mad_c = float(np.nanmedian(np.abs(rc - np.nanmedian(rc)))) * MAD_K if rc.size else g_mad
        var += frac[k] * max(mad_c, 0.5) ** 2
    scale = np.where(ok, np.sqrt(var), np.nan)
    bg = np.where(ok, model + loc_med, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(ok, resid2 / scale, np.nan)
    return z, bg, scale


def join_enterprises(x: np.ndarray, y: np.ndarray, park: Any, *, max_m: np.ndarray | float) -> tuple[list, np.ndarray]:
    """Nearest enterprise (id, distance m) to each metric point, None beyond ``max_m``."""
    ent = park.enterprises
    n = len(x)
    if ent is None or len(ent) == 0 or n == 0:
        return [None] * n, np.full(n, np.nan)
    ex, ey = park.lonlat_to_xy(ent["lon"].to_numpy(float), ent["lat"].to_numpy(float))
    d = np.hypot(np.asarray(x)[:, None] - ex[None, :], np.asarray(y)[:, None] - ey[None, :])
    k = d.argmin(1)
    dist = d[np.arange(n), k]
    ids = ent["enterprise_id"].astype(str).to_numpy()[k]
    lim = np.broadcast_to(np.asarray(max_m, float), (n,))
    return [ids[i] if dist[i] <= lim[i] else None for i in range(n)], dist


def thermal_anomalies(
    lst: Any,
    park: Any,
    *,
    classes: np.ndarray | None = None,
    class_names: Mapping[int, str] | None = None,
    ndvi: np.ndarray | None = None,
    params: ThermalParams | None = None,
) -> ThermalResult:
    """Find thermal anomalies in an LST raster on the park grid.

    Parameters
    ----------
    lst : xarray.DataArray
        LST (K) on the park grid, from :func:`parkscan.sources.readers.lst.read_lst` (``x``/``y`` pixel centres).
    park : Park
        The park (metric CRS, enterprises).
    classes : (H, W) int array, optional
        Land-cover classes on the same grid (negative = no data).
    class_names : dict, optional
        Class code → name; a name containing "water" marks outfall candidates.
    ndvi : (H, W) array, optional
        NDVI on the same grid (used for quantile strata when there are no classes).
    params : ThermalParams, optional

    Returns
    -------
    ThermalResult
        ``anomalies`` columns: anomaly_id, lon, lat, x, y, n_pixels, area_m2, lst_max_k, delta_max_k,
        delta_mean_k, z_max, stratum, kind (roof | stack | outfall), enterprise_id, enterprise_distance_m, inside_park.

    Examples
    --------
    >>> res = thermal_anomalies(read_lst("..._ST_B10.TIF", park.grid(30, ring_m=1000)), park)  # doctest: +SKIP
    """
    import shapely
    from scipy import ndimage

    p = params or ThermalParams()
    t = np.asarray(getattr(lst, "values", lst), float)
    if t.ndim != 2:
        raise ModelError(f"LST must be a 2-D raster, got shape {t.shape}")
    xs = np.asarray(lst["x"].values, float)
    ys = np.asarray(lst["y"].values, float)
    res = float(abs(xs[1] - xs[0])) if len(xs) > 1 else 30.0
    if classes is not None:
        if np.shape(classes) != t.shape:
            raise ModelError(f"class raster shape {np.shape(classes)} differs from the LST grid {t.shape}; reproject it first")
        strata, source = np.where(np.isfinite(t), np.asarray(classes, int), -1), "classes"
    elif ndvi is not None:
        strata, source = np.where(np.isfinite(t), ndvi_strata(np.asarray(ndvi, float)), -1), "ndvi"
    else:
        strata, source = np.where(np.isfinite(t), 0, -1), "none"
    if np.isfinite(t).sum() < 30:
        raise ModelError(f"only {int(np.isfinite(t).sum())} valid LST pixels over the park (cloud or outside the image)")
    fp_m = p.footprint_m or float(getattr(lst, "attrs", {}).get("footprint_m", 100.0))
    z, bg, _ = robust_zscore(t, strata, res_m=res, block_m=p.block_m, min_block_pixels=p.min_block_pixels,
                             footprint_m=fp_m, upper_q=p.upper_q, class_q=p.class_q)
    delta = t - bg
    names = dict(class_names or {})
    water = np.isin(strata, [c for c, n in names.items() if "water" in str(n).lower()]) if source == "classes" else np.zeros(t.shape, bool)
    hot = (z >= p.z_min) & (delta >= np.where(water, p.dt_min_water, p.dt_min))
    lab, n = ndimage.label(hot, structure=np.ones((3, 3)))
    rows = []
    fp = park.to_local(park.footprint)
    for i in range(1, n + 1):
        rr, cc = np.nonzero(lab == i)
        if len(rr) < p.min_pixels:
            continue
        d = delta[rr, cc]
        w = np.clip(d, 1e-3, None)
        x = float(np.average(xs[cc], weights=w))
        y = float(np.average(ys[rr], weights=w))
        st = int(np.bincount(strata[rr, cc][strata[rr, cc] >= 0]).argmax()) if (strata[rr, cc] >= 0).any() else -1
        sname = names.get(st, str(st) if source == "classes" else source)
        if "water" in str(sname).lower():
            kind = "outfall"
        elif len(rr) <= p.stack_max_pixels and d.max() >= p.stack_dt:
            kind = "stack"
        else:
            kind = "roof"
        lon, lat = park.xy_to_lonlat(x, y)
        rows.append({
            "anomaly_id": len(rows) + 1, "lon": float(lon), "lat": float(lat), "x": x, "y": y,
            "n_pixels": int(len(rr)), "area_m2": float(len(rr) * res * res), "lst_max_k": float(np.nanmax(t[rr, cc])),
            "delta_max_k": float(d.max()), "delta_mean_k": float(d.mean()), "z_max": float(np.nanmax(z[rr, cc])),
            "stratum": sname, "kind": kind, "inside_park": bool(shapely.contains_xy(fp, x, y)),
        })
    cols = ["anomaly_id", "lon", "lat", "x", "y", "n_pixels", "area_m2", "lst_max_k", "delta_max_k", "delta_mean_k", "z_max",
            "stratum", "kind", "inside_park", "enterprise_id", "enterprise_distance_m"]
    df = pd.DataFrame(rows, columns=[c for c in cols if c not in ("enterprise_id", "enterprise_distance_m")])
    ids, dist = join_enterprises(df["x"].to_numpy(), df["y"].to_numpy(), park,
                                 max_m=p.join_m + np.sqrt(df["area_m2"].to_numpy()) / 2 if len(df) else p.join_m)
    df["enterprise_id"] = ids
    df["enterprise_distance_m"] = dist
    df = df.sort_values("delta_max_k", ascending=False).reset_index(drop=True)
    df["anomaly_id"] = np.arange(1, len(df) + 1)
    log.info("thermal: %d anomalies (%s strata)", len(df), source)
    return ThermalResult(anomalies=df[cols], z=z, background=bg, delta=delta, strata=strata, strata_source=source)
