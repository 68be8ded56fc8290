"""Thermal anomalies: hot roofs, stacks and outfalls against a land-cover-matched local background.

For each stratum (a land-cover class from a class raster; else NDVI quantile bins; else one stratum)
the background of every pixel is the median of the same-stratum pixels in its neighbourhood
(3×3 blocks of ``block_m``, default 500 m → a 1.5 km window), and its spread the MAD
(× 1.4826). Blocks with too few same-stratum pixels fall back to the stratum's park-wide
statistics. Robust z = (T − median) / (1.4826 MAD). Pixels with z ≥ ``z_min`` and
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

    z_min: float = 3.5
    """Robust z a hot pixel needs."""
    dt_min: float = 2.0
    """Excess over the background (K) a hot pixel needs."""
    min_pixels: int = 2
    """Pixels an anomaly needs."""
    block_m: float = 500.0
    """Block size of the local background (the window is 3×3 blocks)."""
    min_block_pixels: int = 25
    """Same-stratum pixels a window needs, else the stratum-wide statistics are used."""
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


def robust_zscore(t: np.ndarray, strata: np.ndarray, *, res_m: float, block_m: float = 500.0,
                  min_block_pixels: int = 25) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Robust z of ``t`` against the same-stratum local background.

    Returns
    -------
    z, background, scale : (H, W) arrays
    """
    H, W = t.shape
    b = max(1, int(round(block_m / res_m)))
    z = np.full(t.shape, np.nan)
    bg = np.full(t.shape, np.nan)
    sc = np.full(t.shape, np.nan)
    for s in np.unique(strata[strata >= 0]):
        m = (strata == s) & np.isfinite(t)
        if m.sum() < 3:
            continue
        ts = np.where(m, t, np.nan)
        g_med = float(np.nanmedian(ts))
        g_mad = float(np.nanmedian(np.abs(ts - g_med))) * MAD_K
        blk, BH, BW = _blocks(ts, b)
        padded = np.full((BH + 2, BW + 2, b * b), np.nan)
        padded[1:-1, 1:-1] = blk
        nb = np.concatenate([padded[i:i + BH, j:j + BW] for i in range(3) for j in range(3)], axis=-1)
        n_ok = np.isfinite(nb).sum(-1)
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                med = np.nanmedian(nb, axis=-1)
                mad = np.nanmedian(np.abs(nb - med[..., None]), axis=-1) * MAD_K
        few = n_ok < min_block_pixels
        med = np.where(few, g_med, med)
        mad = np.where(few, g_mad, mad)
        # floor the spread: sensor noise ~0.5 K and never below a quarter of the stratum-wide spread
        mad = np.maximum(mad, max(0.5, 0.25 * g_mad))
        med_full = np.repeat(np.repeat(med, b, 0), b, 1)[:H, :W]
        mad_full = np.repeat(np.repeat(mad, b, 0), b, 1)[:H, :W]
        bg[m] = med_full[m]
        sc[m] = mad_full[m]
        z[m] = (t[m] - med_full[m]) / mad_full[m]
    return z, bg, sc


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
    z, bg, _ = robust_zscore(t, strata, res_m=res, block_m=p.block_m, min_block_pixels=p.min_block_pixels)
    delta = t - bg
    hot = (z >= p.z_min) & (delta >= p.dt_min)
    lab, n = ndimage.label(hot, structure=np.ones((3, 3)))
    names = dict(class_names or {})
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
