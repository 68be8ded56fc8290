"""Index rules: the unsupervised fallback classifier when no labels and no trained model are given.

Fixed, published-style thresholds on the period median of NDVI, MNDWI, NDBI and BSI — nothing is fitted
to the scene. Its accuracy is measured, not assumed: ``bench/eval_landcover.py`` scores it on the real
Slovenia labels (built-up vs vegetation only: that reference has no water, bare soil or real cropland)
and on simulated scenes, and writes ``data/rules_accuracy.json``, which the screening reports and uses
for the error-adjusted areas.

Rules (first match wins), with N = NDVI, W = MNDWI, B = NDBI (period medians):

1. water: W > 0 and N < 0.3 (Xu 2006 uses MNDWI > 0)
2. vegetation: N ≥ 0.6 (dense, persistent canopy)
3. cropland: 0.3 ≤ N < 0.6 (moderate cover). A seasonal rule (NDVI range over time) was tried and
   dropped: on the real Slovenia series it called deciduous forest and mown meadows cropland.
   With several dates, observations with blue reflectance > 0.25 (cloud, snow) are ignored first.
4. bare soil: N < 0.3 and blue/red = B02/B04 < 0.7 (soils are red-shifted in the visible; concrete,
   metal roofs and asphalt are grey, blue/red ≈ 0.8–1)
5. built-up: everything else with N < 0.3

The blue/red threshold is physical, but it was checked against the class spectra of
``parkscan.sources.simulate`` (derived from real Sentinel-2 spectra), so the simulated bare-soil accuracy
is optimistic; red roofs and red-tiled villages will be called bare soil. NDBI is reported as evidence
but not used to separate built-up from bare soil: both are SWIR-bright. Single-date
rules cannot tell summer cropland from other vegetation (both N > 0.6), which is why cropland needs
several dates (seasonal NDVI range) or labels.
"""
from __future__ import annotations

import json
from importlib import resources

import numpy as np

from .classes import CLASS_CODES, NODATA
from .indices import mndwi, ndbi, ndvi

__all__ = ["RULES", "classify_rules", "rules_accuracy"]

RULES = {"water_mndwi": 0.0, "veg_ndvi": 0.6, "low_ndvi": 0.3, "bare_blue_red": 0.7, "cloud_blue": 0.25}
"""Thresholds of the rule classifier."""


def classify_rules(cube: np.ndarray, bands, *, rules: dict | None = None) -> np.ndarray:
    """Park class codes ``(y, x)`` from a reflectance cube ``(time, band, y, x)`` (NaN = masked).

    Examples
    --------
    >>> b = ("B02", "B03", "B04", "B08", "B11", "B12")
    >>> water = np.array([.05, .06, .04, .03, .01, .01]); forest = np.array([.02, .05, .03, .40, .18, .08])
    >>> cube = np.stack([water, forest], -1)[None, :, None, :]
    >>> classify_rules(cube, b).tolist()
    [[4, 3]]
    """
    r = dict(RULES, **(rules or {}))
    cube = np.asarray(cube, "float32")
    if cube.ndim == 3:
        cube = cube[None]
    if cube.shape[0] > 1 and "B02" in bands:
        # several dates: drop observations brighter than any surface in the blue (clouds, snow) — a crude
        # cloud test for imagery that comes without a cloud mask (L1C, composites)
        cloudy = cube[:, list(bands).index("B02")] > r["cloud_blue"]
        cube = np.where(cloudy[:, None], np.nan, cube)
    bd = {b: cube[:, i] for i, b in enumerate(bands)}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        nd_t = ndvi(bd)
        N = np.nanmedian(nd_t, 0)
        W = np.nanmedian(mndwi(bd), 0)
        B = np.nanmedian(ndbi(bd), 0)
    out = np.full(N.shape, NODATA, np.uint8)
    valid = np.isfinite(N) & np.isfinite(W) & np.isfinite(B)
    low = N < r["low_ndvi"]
    out[valid & low] = CLASS_CODES["built_up"]
    with np.errstate(divide="ignore", invalid="ignore"):
        blue_red = np.nanmedian(bd["B02"] / bd["B04"], 0) if "B02" in bd else np.full(N.shape, np.nan)
    out[valid & low & (blue_red < r["bare_blue_red"])] = CLASS_CODES["bare_soil"]
    out[valid & ~low] = CLASS_CODES["cropland"]
    out[valid & (N >= r["veg_ndvi"])] = CLASS_CODES["vegetation"]
    out[valid & (W > r["water_mndwi"]) & (N < r["low_ndvi"])] = CLASS_CODES["water"]
    return out


def rules_accuracy() -> dict:
    """The measured accuracy of the rule classifier (``data/rules_accuracy.json``), or ``{}`` if not shipped."""
    try:
        text = resources.files("parkscan.models.landcover").joinpath("data/rules_accuracy.json").read_text()
    except (FileNotFoundError, ModuleNotFoundError):
        return {}
    return json.loads(text)
