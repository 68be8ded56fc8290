"""Change between two periods: post-classification comparison, index differencing, minimum mapping unit, polygons.

Post-classification comparison (PCC) says *what* changed (from → to); the difference of an index
(NDVI, NDBI, ...) with an automatic Otsu threshold says *whether* the surface really changed. A PCC
transition is kept where the index difference confirms it (this removes most pseudo-change from two
independent classification errors), then patches smaller than the minimum mapping unit are dropped and
the rest become polygons with their area.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from .classes import NODATA, PARK_CLASSES

__all__ = ["otsu_threshold", "index_change", "transitions", "apply_mmu", "change_polygons", "ChangeResult", "detect_change"]


def otsu_threshold(values: np.ndarray, *, bins: int = 256) -> float:
    """Otsu's threshold of the finite values (maximises the between-class variance).

    Examples
    --------
    >>> v = np.r_[np.random.default_rng(0).normal(0, .05, 900), np.random.default_rng(1).normal(.6, .05, 100)]
    >>> t = otsu_threshold(v)
    >>> bool((v[900:] > t).all() and (v[:900] > t).mean() < 0.02)
    True
    """
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size == 0 or v.min() == v.max():
        return float("nan")
    hist, edges = np.histogram(v, bins=bins)
    centers = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m = np.cumsum(hist * centers)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu0 = m / w0
        mu1 = (m[-1] - m) / w1
        between = w0 * w1 * (mu0 - mu1) ** 2
    between = np.nan_to_num(between[:-1], nan=-1)
    return float(edges[1:][int(np.argmax(between))])


def index_change(before: np.ndarray, after: np.ndarray, *, threshold: float | None = None, min_threshold: float = 0.1):
    """Difference ``after − before`` and a change mask ``|diff| > t`` with ``t`` = Otsu of ``|diff|`` (≥ ``min_threshold``).

    Returns ``(diff, mask, t)``. The floor keeps a scene without real change from being split at noise level.
    """
    diff = np.asarray(after, "float32") - np.asarray(before, "float32")
    t = otsu_threshold(np.abs(diff)) if threshold is None else float(threshold)
    if not np.isfinite(t):
        t = min_threshold
    t = max(t, min_threshold)
    return diff, np.abs(diff) > t, t


def transitions(before: np.ndarray, after: np.ndarray, *, n_classes: int = len(PARK_CLASSES)) -> np.ndarray:
    """Transition code ``from * 10 + to`` where the class changed (0 = no change or no data)."""
    b = np.asarray(before).astype(np.int16)
    a = np.asarray(after).astype(np.int16)
    out = np.where((b != a) & (b != NODATA) & (a != NODATA), b * 10 + a, 0)
    return out.astype(np.int16)


def apply_mmu(codes: np.ndarray, min_pixels: int, *, connectivity: int = 2) -> np.ndarray:
    """Zero the connected patches (per code value) smaller than ``min_pixels``."""
    out = np.asarray(codes).copy()
    structure = ndi.generate_binary_structure(2, connectivity)
    for v in np.unique(out):
        if v == 0:
            continue
        lab, n = ndi.label(out == v, structure=structure)
        if n == 0:
            continue
        sizes = np.bincount(lab.ravel())
        small = sizes < min_pixels
        small[0] = False
        out[small[lab]] = 0
    return out


def change_polygons(codes: np.ndarray, transform, crs, *, extra: dict[str, np.ndarray] | None = None):
    """Polygons of the non-zero patches of a transition-code raster, with from/to class and area.

    Parameters
    ----------
    codes : ndarray
        Transition codes (``from * 10 + to``), 0 = nothing.
    transform : affine.Affine
        Pixel → CRS transform (metric CRS, so areas are in m²).
    crs : CRS-like
        The raster CRS.
    extra : dict of name → ndarray, optional
        Rasters whose mean over each polygon is added as a column (e.g. ``dNDVI``).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``patch``, ``code``, ``from``, ``to``, ``n_pixels``, ``area_ha`` (+ extra), geometry in ``crs``.
    """
    import geopandas as gpd
    import rasterio.features
    from shapely.geometry import shape

    codes = np.asarray(codes).astype(np.int32)
    structure = ndi.generate_binary_structure(2, 2)
    patch = np.zeros(codes.shape, np.int32)
    patch_code: list[int] = [0]
    for v in np.unique(codes):
        if v == 0:
            continue
        lab, n = ndi.label(codes == v, structure=structure)
        patch[lab > 0] = lab[lab > 0] + len(patch_code) - 1
        patch_code += [int(v)] * n
    px_area = abs(transform.a * transform.e - transform.b * transform.d)
    rows = [{"patch": int(value), "geometry": shape(geom)}
            for geom, value in rasterio.features.shapes(patch, mask=patch != 0, transform=transform, connectivity=8)]
    cols = ["patch", "code", "from", "to", "n_pixels", "area_ha"] + list(extra or {})
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs).dissolve(by="patch", as_index=False)
    ids = gdf["patch"].to_numpy()
    gdf["code"] = [patch_code[p] for p in ids]
    gdf["n_pixels"] = np.asarray(ndi.sum_labels(np.ones_like(patch), patch, ids), int)
    gdf["area_ha"] = gdf["n_pixels"] * px_area / 1e4
    gdf["from"] = [PARK_CLASSES[c // 10 - 1] if 1 <= c // 10 <= len(PARK_CLASSES) else str(c // 10) for c in gdf["code"]]
    gdf["to"] = [PARK_CLASSES[c % 10 - 1] if 1 <= c % 10 <= len(PARK_CLASSES) else str(c % 10) for c in gdf["code"]]
    for name, arr in (extra or {}).items():
        arr = np.asarray(arr, float)
        ok = np.isfinite(arr)
        s_ = ndi.sum_labels(np.where(ok, arr, 0.0), patch, ids)
        c_ = ndi.sum_labels(ok.astype(float), patch, ids)
        gdf[name] = np.where(c_ > 0, s_ / np.maximum(c_, 1), np.nan)
    return gdf.sort_values("area_ha", ascending=False).reset_index(drop=True)


@dataclass
class ChangeResult:
    """Everything :func:`detect_change` found."""

    codes: np.ndarray
    """Transition codes after confirmation and MMU (0 = no change)."""
    pcc: np.ndarray
    """Raw post-classification transitions."""
    diff: dict
    """Index name → after − before difference."""
    thresholds: dict
    """Index name → Otsu threshold used."""
    polygons: object
    """GeoDataFrame from :func:`change_polygons`."""
    mmu_pixels: int
    """Minimum mapping unit in pixels."""


def detect_change(before_map: np.ndarray, after_map: np.ndarray, before_idx: dict[str, np.ndarray],
                  after_idx: dict[str, np.ndarray], transform, crs, *, mmu_ha: float = 0.5, confirm: bool = True) -> ChangeResult:
    """Post-classification change confirmed by index differencing, MMU-filtered, as polygons.

    Parameters
    ----------
    before_map, after_map : ndarray
        Park class codes of the two periods on the same grid.
    before_idx, after_idx : dict
        Index rasters (e.g. ``{"NDVI": ..., "NDBI": ...}``) of the two periods.
    transform, crs
        Grid georeference (metric CRS).
    mmu_ha : float
        Minimum mapping unit in hectares.
    confirm : bool
        Keep only the transitions where at least one index difference exceeds its Otsu threshold.
    """
    pcc = transitions(before_map, after_map)
    diffs, thr, any_change = {}, {}, np.zeros(pcc.shape, bool)
    for name in before_idx:
        if name in after_idx:
            d, m, t = index_change(before_idx[name], after_idx[name])
            diffs[name], thr[name] = d, t
            any_change |= m
    codes = np.where(any_change, pcc, 0) if (confirm and diffs) else pcc
    px_area = abs(transform.a * transform.e)
    mmu_px = max(1, int(np.ceil(mmu_ha * 1e4 / px_area)))
    codes = apply_mmu(codes, mmu_px)
    polys = change_polygons(codes, transform, crs, extra={f"d{k}": v for k, v in diffs.items()})
    return ChangeResult(codes=codes, pcc=pcc, diff=diffs, thresholds=thr, polygons=polys, mmu_pixels=mmu_px)
