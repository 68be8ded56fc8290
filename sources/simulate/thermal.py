"""Land-surface temperature like a Landsat Collection 2 Level-2 ST_B10 GeoTIFF (30 m, uint16, scale/offset → K).

Temperature per land-cover class on a hot summer day (late morning overpass), hot roofs at process-heat enterprises,
small very hot stacks and a warm cooling-water outfall in the canal; the TIRS footprint (100 m, resampled to 30 m
in the product) is imitated by a Gaussian blur, then sensor noise. DN = (T − 149.0) / 0.00341802, nodata 0.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio import features
from rasterio.transform import rowcol
from scipy import ndimage

from parkscan.aoi.atomic import atomic_path

from .presets import Preset
from .scene import Scene
from .spectra import CLASSES

__all__ = ["simulate_lst", "ST_SCALE", "ST_OFFSET", "LST_FILE", "LST_DATE"]

ST_SCALE, ST_OFFSET = 0.00341802, 149.0
LST_DATE = "2025-07-18"
LST_FILE = "thermal/LC09_L2SP_119038_20250718_20250720_02_T1_ST_B10.TIF"
#: class → (mean K, within-class sd K) on a hot July day at 10:30 local time
_CLASS_T = {"built": (316.0, 2.5), "road": (318.0, 1.5), "cropland": (304.0, 1.2), "vegetation": (302.0, 1.0),
            "water": (300.5, 0.4), "bare": (321.0, 1.5)}
_HOT_INDUSTRIES = ("热电", "钢铁", "化工", "金属/电镀", "制药")


def simulate_lst(out_dir: Path, scene: Scene, preset: Preset, rng: np.random.Generator) -> dict:
    """Write the ST_B10-like GeoTIFF and return its truth record (hot roofs, stacks, outfalls)."""
    lc = scene.lc_after
    t10 = np.zeros(lc.shape)
    for code, name in CLASSES.items():
        m, s = _CLASS_T[name]
        t10[lc == code] = m
    obj_noise = rng.normal(0, 1, int(scene.objects.max()) + 1)[scene.objects]
    sd = np.zeros(lc.shape)
    for code, name in CLASSES.items():
        sd[lc == code] = _CLASS_T[name][1]
    t10 += sd * obj_noise
    hot_roofs, stacks, outfalls = [], [], []
    candidates = [e for e in scene.enterprises if e.industry in _HOT_INDUSTRIES]
    order = sorted(candidates, key=lambda e: (_HOT_INDUSTRIES.index(e.industry), e.enterprise_id))
    n_hot = min(len(order), 4 if preset.name != "small" else 3)
    for e in order[:n_hot]:
        roof = max(e.roofs, key=lambda p: p.area)
        dk = float(preset.hot_roof_dk * rng.uniform(0.85, 1.25))
        m = features.rasterize([(roof, 1)], out_shape=lc.shape, transform=scene.transform, dtype="uint8") == 1
        t10[m] += dk
        hot_roofs.append({"enterprise_id": e.enterprise_id, "industry": e.industry, "polygon": roof, "dT_K": round(dk, 2),
                          "area_m2": round(roof.area, 1)})
    for e in [e for e in scene.enterprises if e.industry in ("热电", "钢铁")]:
        roof = max(e.roofs, key=lambda p: p.area)
        sx, sy = roof.centroid.x + 30.0, roof.centroid.y
        rr, cc = rowcol(scene.transform, sx, sy)
        if 0 <= rr < lc.shape[0] - 3 and 0 <= cc < lc.shape[1] - 3:
            dk = float(rng.uniform(25, 40))
            t10[rr:rr + 3, cc:cc + 3] += dk
            stacks.append({"enterprise_id": e.enterprise_id, "x": sx, "y": sy, "dT_K": round(dk, 2)})
        if e.industry == "热电" and scene.water:
            canal = scene.water[0]
            p = canal.exterior.interpolate(canal.exterior.project(roof.centroid))
            d = np.hypot(*(np.array(_centres(scene.transform, lc.shape)) - np.array([[[p.x]], [[p.y]]])))
            warm = (lc == CLASSES_INV["water"]) & (d < 400)
            dk = 6.0
            t10[warm] += dk * np.exp(-d[warm] / 150.0)
            outfalls.append({"enterprise_id": e.enterprise_id, "x": p.x, "y": p.y, "dT_K": dk})
    # 10 m → 30 m block mean, then TIRS footprint blur and noise
    h, w = lc.shape[0] // 3 * 3, lc.shape[1] // 3 * 3
    t30 = t10[:h, :w].reshape(h // 3, 3, w // 3, 3).mean(axis=(1, 3))
    t30 = ndimage.gaussian_filter(t30, 1.3, mode="nearest") + rng.normal(0, 0.4, t30.shape)
    dn = np.clip(np.round((t30 - ST_OFFSET) / ST_SCALE), 1, 65535).astype(np.uint16)
    tr = scene.transform
    transform = Affine(30.0, 0, tr.c, 0, -30.0, tr.f)
    path = out_dir / LST_FILE
    with atomic_path(path, suffix=".tif") as tmp:
        with rasterio.open(tmp, "w", driver="GTiff", width=dn.shape[1], height=dn.shape[0], count=1, dtype="uint16",
                           crs=scene.crs.to_wkt(), transform=transform, nodata=0, compress="deflate") as dst:
            dst.write(dn, 1)
            dst.descriptions = ("ST_B10",)
            dst.scales = (ST_SCALE,)
            dst.offsets = (ST_OFFSET,)
            dst.update_tags(DATE_ACQUIRED=LST_DATE, SCENE_CENTER_TIME="02:32:41.5620090Z", SPACECRAFT_ID="LANDSAT_9",
                            SENSOR_ID="OLI_TIRS", COLLECTION_NUMBER="02", PROCESSING_LEVEL="L2SP", WRS_PATH="119",
                            WRS_ROW="038", UNITS="Kelvin", DATETIME=f"{LST_DATE.replace('-', ':')} 02:32:41",
                            SIMULATED="parkscan.sources.simulate (not real USGS Landsat data)")
            dst.update_tags(1, BANDNAME="ST_B10", UNITS="Kelvin", SCALE_FACTOR=str(ST_SCALE), ADD_OFFSET=str(ST_OFFSET))
    return {"file": LST_FILE, "date": LST_DATE, "class_temperature_K": {k: v[0] for k, v in _CLASS_T.items()},
            "hot_roofs": hot_roofs, "stacks": stacks, "outfalls": outfalls}


CLASSES_INV = {v: k for k, v in CLASSES.items()}


def _centres(transform: Affine, shape: tuple[int, int]):
    rows, cols = np.indices(shape)
    x = transform.c + (cols + 0.5) * transform.a
    y = transform.f + (rows + 0.5) * transform.e
    return x, y
