"""Sentinel-2 L2A-like surface reflectance GeoTIFFs (10 bands + SCL) for the two image dates."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from scipy import ndimage

from parkscan.aoi.atomic import atomic_path

from .scene import Scene
from .spectra import BANDS, CLASSES, SCL_OF_CLASS, class_mean, render_reflectance

__all__ = ["write_s2_l2a", "cloud_field", "IMAGE_DATES"]

#: acquisition date and time (UTC) of the 'before' and 'after' scenes (Sentinel-2 passes Suzhou ≈ 02:40 UTC)
IMAGE_DATES = {"before": "2023-06-15T02:45:31", "after": "2025-06-20T02:45:29"}


def cloud_field(rng: np.random.Generator, shape: tuple[int, int], cover: float, *, avoid: np.ndarray | None = None):
    """Cloud opacity (0–1) and cloud-shadow masks covering about ``cover`` of the image.

    Clouds are thresholded smooth random fields; shadows are the clouds shifted by a sun-geometry offset.
    Pixels in ``avoid`` (e.g. the true changes) are kept clear so that the truth stays observable.
    """
    h, w = shape
    if cover <= 0:
        z = np.zeros(shape)
        return z, np.zeros(shape, bool)
    f = ndimage.gaussian_filter(rng.standard_normal(shape), 14)
    thr = np.quantile(f, 1 - cover)
    opacity = np.clip((f - thr) / (f.std() * 0.5 + 1e-12), 0, 1)
    if avoid is not None:
        opacity[ndimage.binary_dilation(avoid, iterations=8)] = 0
    shadow = np.roll(np.roll(opacity > 0.3, 25, axis=0), -18, axis=1)
    shadow &= opacity < 0.05
    return opacity, shadow


def write_s2_l2a(path: str | Path, scene: Scene, landcover: np.ndarray, rng: np.random.Generator, *, when: str,
                 cloud_cover: float, avoid: np.ndarray | None = None, season_shift: float = 0.0,
                 apparent: np.ndarray | None = None, radiometric_sd: float = 0.0) -> dict:
    """Write one L2A-like GeoTIFF: bands B02…B12 (uint16, reflectance × 10 000) then SCL (uint8 values in uint16).

    ``apparent`` optionally gives the cover as it looks on this date where it differs from the land cover (a
    harvested field looks like bare soil, a paddy being flooded like water); those pixels get a 65/35 mix of the
    apparent class and the true class. Returns a dict describing what was written (cloud fraction).
    """
    look = landcover if apparent is None else apparent
    refl = render_reflectance(look, rng, objects=scene.objects, season_shift=season_shift)
    # residual radiometric difference between dates (atmospheric correction, BRDF): a small gain per band
    gains = np.round(1.0 + rng.normal(0.0, radiometric_sd, len(BANDS)), 4) if radiometric_sd else np.ones(len(BANDS))
    refl = refl * gains[:, None, None].astype(np.float32)
    if apparent is not None:
        m = apparent != landcover
        if m.any():
            true_mean = np.stack([class_mean(CLASSES[int(c)]) for c in landcover[m]], axis=1)
            refl[:, m] = 0.65 * refl[:, m] + 0.35 * true_mean
    landcover = look
    opacity, shadow = cloud_field(rng, landcover.shape, cloud_cover, avoid=avoid)
    cloud_spec = np.linspace(0.42, 0.30, len(BANDS))[:, None, None]
    refl = refl * (1 - opacity) + cloud_spec * opacity
    refl = np.where(shadow, refl * 0.35, refl)
    lut = np.zeros(256, np.uint8)
    for code, value in SCL_OF_CLASS.items():
        lut[code] = value
    scl = lut[landcover]
    scl[shadow] = 3
    scl[opacity > 0.05] = 8
    scl[opacity > 0.6] = 9
    dn = np.clip(np.round(refl * 10000), 1, 65535).astype(np.uint16)
    h, w = landcover.shape
    profile = dict(driver="GTiff", width=w, height=h, count=len(BANDS) + 1, dtype="uint16", crs=scene.crs.to_wkt(),
                   transform=scene.transform, nodata=0, compress="deflate", tiled=True, blockxsize=256, blockysize=256,
                   interleave="band")
    date = when[:10]
    with atomic_path(path, suffix=".tif") as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(dn, indexes=list(range(1, len(BANDS) + 1)))
            dst.write(scl.astype(np.uint16), len(BANDS) + 1)
            dst.descriptions = tuple(BANDS) + ("SCL",)
            dst.scales = (1e-4,) * len(BANDS) + (1.0,)
            dst.offsets = (0.0,) * (len(BANDS) + 1)
            dst.update_tags(DATETIME=when.replace("-", ":").replace("T", " ")[:19], ACQUISITION_DATE=date,
                            SENSING_TIME=when + ".024Z", SPACECRAFT_NAME="Sentinel-2A", PROCESSING_LEVEL="Level-2A",
                            PRODUCT_TYPE="S2MSI2A", BOA_QUANTIFICATION_VALUE="10000", BOA_ADD_OFFSET="0",
                            CLOUDY_PIXEL_PERCENTAGE=f"{100 * float((scl >= 8).mean()):.2f}",
                            SIMULATED="parkscan.sources.simulate (not real Copernicus data)")
            for b, name in enumerate(BANDS, start=1):
                dst.update_tags(b, BANDNAME=name)
            dst.update_tags(len(BANDS) + 1, BANDNAME="SCL",
                            CLASSES="3 cloud shadow; 4 vegetation; 5 not vegetated; 6 water; 8 cloud medium; 9 cloud high")
    return {"path": str(path), "date": date, "band_gains": [float(g) for g in gains], "cloud_fraction": round(float((scl >= 8).mean()), 4),
            "shadow_fraction": round(float((scl == 3).mean()), 4)}
