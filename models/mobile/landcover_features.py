"""Land-cover features for the land-use-regression model: class fractions within buffers around segments.

A class raster (integer codes, any CRS: the simulator's ``truth/landcover_YYYY.tif``, a ``parkscan landcover
predict`` output, ESA WorldCover, …) is warped once onto a grid in the analysis CRS covering the segments (a
:class:`rasterio.vrt.WarpedVRT` window, nearest neighbour, so a country-sized file is never read whole). For
each class and buffer radius the indicator image is convolved with a disc kernel (FFT), divided by the
convolved valid-pixel image, and sampled at the segment midpoints by bilinear interpolation — no per-segment
loop. The fraction is among pixels with data; points whose buffer is less than half covered get NaN.

Class names come from ``classes`` ({code: name}) if given, else the raster's ``CLASSES`` tag (written by the
simulator and by ``parkscan landcover predict``), else the park class set of
:mod:`parkscan.models.landcover.classes` for codes 1–5, else ``c<code>``.
"""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import pyproj

from parkscan.aoi.errors import ModelError, SourceIOError

__all__ = ["landcover_fractions", "segment_landcover", "disc_kernel"]

log = logging.getLogger(__name__)

_MAX_PIXELS = 4_000_000


def disc_kernel(radius_px: float) -> np.ndarray:
    """A normalised-to-1-per-pixel disc of radius ``radius_px`` (pixel centres within the radius)."""
    r = max(0, int(np.floor(radius_px)))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return (xx**2 + yy**2 <= radius_px**2 + 1e-9).astype(np.float32)


def _names(src, classes: Mapping[int, str] | None, codes: np.ndarray) -> dict[int, str]:
    if classes:
        table = {int(k): str(v) for k, v in classes.items()}
    else:
        table = {}
        tag = src.tags().get("CLASSES")
        if tag:
            try:
                table = {int(k): str(v) for k, v in json.loads(tag).items()}
            except (ValueError, TypeError, AttributeError) as err:
                log.warning("ignoring the unreadable CLASSES tag of %s: %s", src.name, err)
        if not table:
            try:
                from parkscan.models.landcover.classes import PARK_CLASSES
            except ImportError:  # pragma: no cover - models.landcover is part of the package
                PARK_CLASSES = ()
            if len(codes) and set(int(c) for c in codes) <= set(range(1, len(PARK_CLASSES) + 1)):
                table = {i + 1: n for i, n in enumerate(PARK_CLASSES)}
    out = {}
    for c in codes:
        name = table.get(int(c))
        if name is None and table and classes:
            continue  # an explicit mapping leaves codes it does not name out
        name = re.sub(r"[^0-9a-z]+", "_", (name or f"c{int(c)}").lower()).strip("_") or f"c{int(c)}"
        out[int(c)] = name
    return out


def landcover_fractions(raster: str | Path, crs, x: np.ndarray, y: np.ndarray, *, buffers_m: Sequence[float] = (100.0, 300.0),
                        classes: Mapping[int, str] | None = None, res_m: float | None = None, min_cover: float = 0.5) -> pd.DataFrame:
    """Fraction of each land-cover class within circular buffers around points.

    Parameters
    ----------
    raster : path
        Single-band GeoTIFF (or any rasterio-readable file) of integer class codes; its nodata value (if any)
        and pixels outside it count as "no data".
    crs : pyproj.CRS or str
        Projected CRS (metres) of ``x``, ``y`` — e.g. the analysis CRS of a mobile run.
    x, y : array
        Point coordinates in ``crs``.
    buffers_m : sequence of float, keyword-only
        Buffer radii in metres.
    classes : mapping, optional
        {code: name}; codes not named are left out. Default: the raster's ``CLASSES`` tag, else the park classes.
    res_m : float, optional
        Grid resolution in metres; default the raster's own (coarsened to at most 4 M pixels over the points' extent).
    min_cover : float
        Minimum share of a buffer with data; below it the fractions are NaN.

    Returns
    -------
    DataFrame
        One row per point, columns ``f_lc_<class>_<r>m`` in [0, 1].
    """
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.errors import RasterioIOError
    from rasterio.transform import from_origin
    from rasterio.vrt import WarpedVRT
    from rasterio.warp import calculate_default_transform
    from scipy.ndimage import map_coordinates
    from scipy.signal import fftconvolve

    x, y = np.asarray(x, float), np.asarray(y, float)
    buffers_m = [float(b) for b in buffers_m]
    if not buffers_m or min(buffers_m) <= 0:
        raise ModelError(f"land-cover buffers must be positive radii in metres, got {buffers_m}")
    crs = pyproj.CRS.from_user_input(crs)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        raise ModelError("no finite point coordinates for the land-cover features")
    try:
        src = rasterio.open(raster)
    except RasterioIOError as err:
        raise SourceIOError(f"cannot read the land-cover raster {raster}: {err}; give a GeoTIFF of integer class codes") from err
    with src:
        if src.crs is None:
            raise SourceIOError(f"the land-cover raster {raster} has no CRS; write one (e.g. gdal_edit.py -a_srs EPSG:32650 {raster})")
        if src.dtypes[0].startswith("float"):
            log.info("land-cover raster %s is float; values are rounded to class codes", raster)
        rmax = max(buffers_m)
        if res_m is None:
            tr, _, _ = calculate_default_transform(src.crs, crs.to_wkt(), src.width, src.height, *src.bounds)
            res_m = float(abs(tr.a))
        x0, x1 = x[ok].min() - rmax, x[ok].max() + rmax
        y0, y1 = y[ok].min() - rmax, y[ok].max() + rmax
        res_m = max(float(res_m), np.sqrt((x1 - x0) * (y1 - y0) / _MAX_PIXELS))
        pad = 2 * res_m
        x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
        w, h = int(np.ceil((x1 - x0) / res_m)), int(np.ceil((y1 - y0) / res_m))
        transform = from_origin(x0, y1, res_m, res_m)
        with WarpedVRT(src, crs=crs.to_wkt(), transform=transform, width=w, height=h, resampling=Resampling.nearest,
                       add_alpha=src.nodata is None) as vrt:
            if src.nodata is None:
                arr = vrt.read(1)
                valid = vrt.read(vrt.count) > 0
            else:
                m = vrt.read(1, masked=True)
                arr, valid = np.asarray(m.data), ~np.ma.getmaskarray(m)
        arr = np.rint(arr).astype(np.int64) if arr.dtype.kind == "f" else arr.astype(np.int64)
        codes = np.unique(arr[valid])
        if not len(codes):
            raise ModelError(f"the land-cover raster {raster} has no data within {rmax:.0f} m of the segments; "
                             "give a raster that covers the driven area")
        names = _names(src, classes, codes)
    by_name: dict[str, list[int]] = {}
    for c, n in names.items():
        by_name.setdefault(n, []).append(c)
    # pixel coordinates (row, col) of the points for bilinear sampling of pixel-centre values
    col = (x - x0) / res_m - 0.5
    row = (y1 - y) / res_m - 0.5
    coords = np.vstack([np.where(ok, row, 0), np.where(ok, col, 0)])
    out = {}
    validf = valid.astype(np.float32)
    for r in buffers_m:
        k = disc_kernel(r / res_m)
        cover = np.clip(fftconvolve(validf, k, mode="same"), 0, None)
        cover_pts = map_coordinates(cover, coords, order=1, mode="nearest") / k.sum()
        bad = ~ok | (cover_pts < min_cover)
        for name, cs in sorted(by_name.items()):
            ind = (np.isin(arr, cs) & valid).astype(np.float32)
            num = np.clip(fftconvolve(ind, k, mode="same"), 0, None)
            frac = np.divide(num, cover, out=np.zeros_like(num), where=cover > 0.5)
            v = np.clip(map_coordinates(frac, coords, order=1, mode="nearest"), 0.0, 1.0)
            out[f"f_lc_{name}_{r:g}m"] = np.where(bad, np.nan, np.round(v, 6))
    return pd.DataFrame(out)


def segment_landcover(analysis, raster: str | Path, *, buffers_m: Sequence[float] = (100.0, 300.0),
                      classes: Mapping[int, str] | None = None) -> pd.DataFrame:
    """:func:`landcover_fractions` at the midpoints of an analysis's segments (index = segment number)."""
    tb = analysis.segments.table
    if not len(tb):
        raise ModelError("no segments to compute land-cover features for")
    df = landcover_fractions(raster, analysis.crs, tb["x"].to_numpy(float), tb["y"].to_numpy(float), buffers_m=buffers_m, classes=classes)
    df.index = pd.RangeIndex(len(tb))
    return df
