"""Small builders for the land-cover tests: a synthetic park with two Sentinel-2-like GeoTIFFs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
EOLEARN = SHARED / "sentinel2-slovenia-eolearn"
PUCALLPA = SHARED / "landsat-pucallpa-1985-2020"

BANDS = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")
#: typical L2A reflectance per park class (built_up, cropland, vegetation, water, bare_soil)
SPECTRA = {
    1: [0.12, 0.13, 0.14, 0.15, 0.16, 0.17, 0.18, 0.18, 0.24, 0.21],
    2: [0.04, 0.07, 0.05, 0.10, 0.22, 0.28, 0.33, 0.34, 0.20, 0.11],
    3: [0.02, 0.05, 0.03, 0.08, 0.25, 0.33, 0.40, 0.41, 0.17, 0.08],
    4: [0.06, 0.07, 0.05, 0.04, 0.03, 0.03, 0.03, 0.02, 0.01, 0.01],
    5: [0.09, 0.12, 0.16, 0.19, 0.21, 0.22, 0.23, 0.24, 0.30, 0.26],
}


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data {path} is absent (../shared/data is not next to this checkout)")
    return path


@pytest.fixture(scope="session")
def eolearn() -> Path:
    """The eo-learn Slovenia example folder (skips when absent)."""
    return _need(EOLEARN)


@pytest.fixture(scope="session")
def pucallpa() -> Path:
    """The Landsat Pucallpa folder (skips when absent)."""
    return _need(PUCALLPA)


@pytest.fixture(scope="session")
def scene_writer():
    """The :func:`write_scene` builder."""
    return write_scene


def write_scene(path: Path, classes: np.ndarray, transform, crs, *, seed: int = 0, scl: np.ndarray | None = None,
                date: str = "2023-06-15") -> Path:
    """A uint16 (scale 1e-4) 10-band + SCL GeoTIFF whose pixels follow SPECTRA[class] with noise."""
    import rasterio

    rng = np.random.default_rng(seed)
    h, w = classes.shape
    data = np.zeros((11, h, w), np.uint16)
    for c, spec in SPECTRA.items():
        m = classes == c
        for b in range(10):
            data[b][m] = np.clip((spec[b] + rng.normal(0, 0.008, m.sum())) * 1e4, 1, 65535).astype(np.uint16)
    data[10] = 4 if scl is None else scl
    prof = {"driver": "GTiff", "dtype": "uint16", "count": 11, "height": h, "width": w, "crs": crs, "transform": transform,
            "nodata": 0}
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(data)
        for i, b in enumerate(BANDS + ("SCL",), start=1):
            dst.set_band_description(i, b)
        dst.update_tags(ACQUISITION_DATE=date)
    return path


@pytest.fixture(scope="session")
def scene(tmp_path_factory):
    """A 1.6 × 1.6 km park on a 10 m grid, vegetation/cropland with a built core; after: new built-up outside.

    Returns a dict with the park, the imagery folder, the periods and the true new built-up area (ha).
    """
    from affine import Affine
    from shapely.geometry import box

    from parkscan.aoi.park import Park

    d = tmp_path_factory.mktemp("lcscene")
    (d / "imagery").mkdir()
    lon0, lat0 = 120.60, 31.25
    approved = box(lon0, lat0, lon0 + 0.012, lat0 + 0.010)
    managed = box(lon0, lat0, lon0 + 0.016, lat0 + 0.010)
    park = Park(id="T1", name="测试园区", approved=approved, managed=managed)
    grid = park.grid(10, ring_m=600)
    h, w = grid.shape
    before = np.full((h, w), 3, np.uint8)
    before[:, : w // 3] = 2
    before[h // 3: h // 2, w // 3: w // 2] = 1
    before[5:15, 5:25] = 4
    after = before.copy()
    # new built-up block outside the approved boundary, east of it (inside managed: lon0+0.012..0.016)
    ax, ay = park.lonlat_to_xy(lon0 + 0.0135, lat0 + 0.005)
    r0, c0 = grid.rowcol(np.array([ax]), np.array([ay]))
    r0, c0 = int(r0[0]), int(c0[0])
    after[r0 - 10: r0 + 10, c0 - 8: c0 + 8] = 1  # 20 × 16 px = 3.2 ha
    after[r0 + 20: r0 + 30, c0 - 8: c0 + 4] = 5  # bare soil 1.2 ha
    write_scene(d / "imagery" / "S2_L2A_20230615.tif", before, grid.transform, grid.crs, seed=1, date="2023-06-15")
    scl = np.full((h, w), 4, np.uint8)
    scl[0:4, :] = 9  # a cloudy strip
    write_scene(d / "imagery" / "S2_L2A_20250620.tif", after, grid.transform, grid.crs, seed=2, scl=scl, date="2025-06-20")
    return {"park": park, "imagery": d / "imagery", "before": "2023-05-01/2023-07-31", "after": "2025-05-01/2025-07-31",
            "new_built_ha": float(((after == 1) & (before != 1)).sum() * 0.01), "grid": grid, "before_map": before,
            "after_map": after, "dir": d}
