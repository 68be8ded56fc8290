"""Land-cover classes and their Sentinel-2 L2A surface-reflectance spectra.

Provenance
----------
- ``vegetation`` and ``cropland``: class means and within-class covariances DERIVED from real Sentinel-2 data —
  the three clear L1C scenes of the eo-learn example patch (Slovenia, ``REFERENCE_SCENES.npy`` with the ``LULC``
  reference raster; MIT, Copernicus Sentinel data), converted to surface reflectance by dark-object subtraction with
  a Rayleigh λ⁻⁴ path term. See ``_derive_spectra.py``; the numbers are in ``_spectra_data.py``.
- ``built`` (industrial roofs, grey concrete / blue-coated steel), ``road`` (asphalt/concrete), ``water`` (turbid
  inland water of the Yangtze delta) and ``bare`` (dry exposed loam): the Slovenian patch has none of these (its
  "artificial surface" parcels are mostly vegetated, NDVI ≈ 0.57), so their means are typical published L2A surface
  reflectances (ASTER/ECOSTRESS spectral library curves and Sentinel-2 L2A values reported for Chinese industrial
  roofs, asphalt, turbid lakes and bare soil, convolved by hand to the S2 bands; accurate to a few 0.01). Their
  covariances use a brightness-dominated model: coefficient of variation 8–15 % per band with inter-band
  correlation 0.85, the structure seen in the derived classes.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from ._spectra_data import BANDS, DERIVED

__all__ = ["BANDS", "CLASSES", "CLASS_CODES", "SCL_OF_CLASS", "class_mean", "class_cov", "render_reflectance"]

#: land-cover classes of the simulator (code → name)
CLASSES: dict[int, str] = {1: "built", 2: "road", 3: "cropland", 4: "vegetation", 5: "water", 6: "bare"}
CLASS_CODES: dict[str, int] = {v: k for k, v in CLASSES.items()}
#: Sentinel-2 L2A scene classification (SCL) code for each class: 4 vegetation, 5 not vegetated, 6 water
SCL_OF_CLASS: dict[int, int] = {1: 5, 2: 5, 3: 4, 4: 4, 5: 6, 6: 5}

#: published typical L2A reflectances (B02 B03 B04 B05 B06 B07 B08 B8A B11 B12) and coefficient of variation
_PUBLISHED: dict[str, tuple[list[float], float]] = {
    "built": ([0.135, 0.150, 0.160, 0.172, 0.182, 0.190, 0.198, 0.205, 0.245, 0.222], 0.15),
    "road": ([0.085, 0.095, 0.105, 0.112, 0.120, 0.126, 0.132, 0.136, 0.165, 0.150], 0.10),
    "water": ([0.055, 0.075, 0.062, 0.050, 0.030, 0.025, 0.022, 0.018, 0.010, 0.007], 0.12),
    "bare": ([0.090, 0.125, 0.165, 0.192, 0.210, 0.222, 0.235, 0.245, 0.310, 0.265], 0.08),
}
_RHO = 0.85


def class_mean(name: str) -> np.ndarray:
    """Mean L2A surface reflectance of a class over :data:`BANDS`."""
    if name in DERIVED:
        return np.asarray(DERIVED[name]["mean"], float)
    return np.asarray(_PUBLISHED[name][0], float)


def class_cov(name: str) -> np.ndarray:
    """Within-class covariance (10×10) of a class over :data:`BANDS`."""
    if name in DERIVED:
        return np.asarray(DERIVED[name]["cov"], float)
    mean, cv = _PUBLISHED[name]
    sd = np.asarray(mean) * cv
    corr = np.full((len(sd), len(sd)), _RHO)
    np.fill_diagonal(corr, 1.0)
    return corr * np.outer(sd, sd)


def _texture(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """A unit-variance Gaussian random field with spatial correlation length ``sigma`` pixels."""
    z = rng.standard_normal(shape)
    if sigma > 0:
        z = ndimage.gaussian_filter(z, sigma, mode="reflect")
        z /= z.std() + 1e-12
    return z


def render_reflectance(landcover: np.ndarray, rng: np.random.Generator, *, objects: np.ndarray | None = None,
                       season_shift: float = 0.0) -> np.ndarray:
    """Surface reflectance (band, row, col) for a land-cover raster.

    Each pixel is its class mean plus correlated noise drawn from the within-class covariance, split into a
    spatially smooth part (texture, correlation length ≈ 2 px), a per-object part (``objects`` labels: a roof, a
    field) and white noise; the 20 m bands are then aggregated 2×2 and resampled back to 10 m, and the whole image
    is blurred by a small point-spread function.

    Parameters
    ----------
    landcover
        Class codes (see :data:`CLASSES`), shape (rows, cols).
    rng
        Random generator.
    objects
        Optional integer labels of objects (fields, roofs) sharing one random offset.
    season_shift
        Added to the vegetation/cropland NIR plateau (a slightly different phenology on the second date).
    """
    h, w = landcover.shape
    nb = len(BANDS)
    out = np.zeros((nb, h, w), np.float32)
    z_smooth = np.stack([_texture(rng, (h, w), 2.0) for _ in range(nb)], axis=-1)
    z_white = rng.standard_normal((h, w, nb))
    if objects is not None:
        nobj = int(objects.max()) + 1
        z_obj = rng.standard_normal((nobj, nb))[objects]
    else:
        z_obj = np.zeros((h, w, nb))
    z = 0.45 * z_smooth + 0.45 * z_obj + 0.77 * z_white  # variance ≈ 1
    for code, name in CLASSES.items():
        m = landcover == code
        if not m.any():
            continue
        mean = class_mean(name).copy()
        if name in ("vegetation", "cropland") and season_shift:
            mean[4:8] *= 1.0 + season_shift
        chol = np.linalg.cholesky(class_cov(name) + 1e-9 * np.eye(nb))
        vals = mean + z[m] @ chol.T
        out[:, m] = vals.T.astype(np.float32)
    # 20 m bands (B05 B06 B07 B8A B11 B12): aggregate 2x2 and resample back to 10 m
    for b, name in enumerate(BANDS):
        if name in ("B05", "B06", "B07", "B8A", "B11", "B12"):
            hh, ww = h - h % 2, w - w % 2
            blk = out[b, :hh, :ww].reshape(hh // 2, 2, ww // 2, 2).mean(axis=(1, 3))
            out[b, :hh, :ww] = np.repeat(np.repeat(blk, 2, 0), 2, 1)
    out = ndimage.gaussian_filter(out, (0, 0.5, 0.5))
    return np.clip(out, 0.0005, 1.2)
