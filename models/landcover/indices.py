"""Spectral indices from Sentinel-2 (or Landsat) reflectance.

Functions take arrays (numpy, dask or xarray) of reflectance on a 0–1 scale and return float32 with
NaN where the denominator vanishes. Band names follow Sentinel-2 (B02 blue, B03 green, B04 red,
B08 NIR, B8A narrow NIR, B11 SWIR1, B12 SWIR2); :data:`LANDSAT_TO_S2` maps Landsat names.
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

__all__ = ["normalized_difference", "ndvi", "ndbi", "mndwi", "bsi", "nbr", "ndwi", "INDICES", "compute_indices", "LANDSAT_TO_S2"]

LANDSAT_TO_S2: dict[str, str] = {"Blue": "B02", "Green": "B03", "Red": "B04", "NIR": "B08", "SWIR1": "B11", "SWIR2": "B12"}
"""Landsat band names → the Sentinel-2 band with the same role."""


def normalized_difference(a, b):
    """``(a - b) / (a + b)``; NaN where ``a + b == 0``.

    Examples
    --------
    >>> round(float(normalized_difference(np.float32(0.4), np.float32(0.1))), 4)
    0.6
    """
    a = a.astype("float32") if hasattr(a, "astype") else np.float32(a)
    b = b.astype("float32") if hasattr(b, "astype") else np.float32(b)
    s = a + b
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (a - b) / s
    if isinstance(out, np.ndarray):
        out = np.where(s == 0, np.float32(np.nan), out).astype("float32")
    elif hasattr(out, "where"):
        out = out.where(s != 0)
    return out


def ndvi(b: Mapping[str, object]):
    """Normalised difference vegetation index (B08 − B04)/(B08 + B04)."""
    return normalized_difference(b["B08"], b["B04"])


def ndbi(b: Mapping[str, object]):
    """Normalised difference built-up index (B11 − B08)/(B11 + B08) (Zha et al. 2003)."""
    return normalized_difference(b["B11"], b["B08"])


def mndwi(b: Mapping[str, object]):
    """Modified normalised difference water index (B03 − B11)/(B03 + B11) (Xu 2006)."""
    return normalized_difference(b["B03"], b["B11"])


def ndwi(b: Mapping[str, object]):
    """McFeeters water index (B03 − B08)/(B03 + B08)."""
    return normalized_difference(b["B03"], b["B08"])


def bsi(b: Mapping[str, object]):
    """Bare soil index ((B11 + B04) − (B08 + B02)) / ((B11 + B04) + (B08 + B02)) (Rikimaru et al. 2002)."""
    return normalized_difference(b["B11"] + b["B04"], b["B08"] + b["B02"])


def nbr(b: Mapping[str, object]):
    """Normalised burn ratio (B08 − B12)/(B08 + B12)."""
    return normalized_difference(b["B08"], b["B12"])


INDICES: dict[str, tuple[Callable, tuple[str, ...]]] = {
    "NDVI": (ndvi, ("B08", "B04")),
    "NDBI": (ndbi, ("B11", "B08")),
    "MNDWI": (mndwi, ("B03", "B11")),
    "NDWI": (ndwi, ("B03", "B08")),
    "BSI": (bsi, ("B11", "B04", "B08", "B02")),
    "NBR": (nbr, ("B08", "B12")),
}
"""Index name → (function, bands it needs)."""


def compute_indices(bands: Mapping[str, object], names=None) -> dict[str, object]:
    """Every index in ``names`` (default all) whose bands are present.

    Parameters
    ----------
    bands : mapping
        Band name → array (an ``xarray.Dataset`` works too).
    names : iterable of str, optional
        Index names from :data:`INDICES`.

    Examples
    --------
    >>> b = {k: np.full(2, v, "float32") for k, v in dict(B02=.05, B03=.08, B04=.06, B08=.4, B11=.2, B12=.1).items()}
    >>> sorted(compute_indices(b, ["NDVI", "NDBI"]))
    ['NDBI', 'NDVI']
    """
    names = list(INDICES) if names is None else list(names)
    have = set(bands.keys()) if hasattr(bands, "keys") else set()
    if hasattr(bands, "data_vars"):
        have = set(bands.data_vars)
    out = {}
    for name in names:
        func, need = INDICES[name]
        if set(need) <= have:
            out[name] = func(bands)
    return out
