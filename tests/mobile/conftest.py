"""Builders for small synthetic 走航 tracks (fast) and the path of the real Bangalore run."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

LON0, LAT0 = 120.60, 31.30
M_LON = 111320 * np.cos(np.radians(LAT0))
M_LAT = 110540.0
BANGALORE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mobile-bangalore-2019" / "joined_file.csv"

#: the plume is met on the road at this local x/y (m); the true enterprise is upwind of it
HOT_XY = (500.0, 0.0)
WIND_FROM = 180.0  # wind from the south: sources lie south of the hotspot
ENTERPRISES = pd.DataFrame({
    "enterprise_id": ["E-TRUE", "E-DOWN", "E-FAR", "E-SIDE"],
    "name": ["上风涂装有限公司", "下风化工有限公司", "远处热电有限公司", "侧面印刷有限公司"],
    "industry": ["涂装", "化工", "热电", "印刷"],
    "x": [500.0, 500.0, 100.0, 900.0],
    "y": [-250.0, 250.0, -1500.0, -60.0],
})
ENTERPRISES["lon"] = LON0 + ENTERPRISES["x"] / M_LON
ENTERPRISES["lat"] = LAT0 + ENTERPRISES["y"] / M_LAT


def xy_to_lonlat(x, y):
    return LON0 + np.asarray(x) / M_LON, LAT0 + np.asarray(y) / M_LAT


def loop_track(passes: int = 6, *, speed: float = 8.0, seed: int = 0, start: str = "2025-06-10 09:00:00",
               plume: float = 80.0, gps_sigma: float = 2.0) -> pd.DataFrame:
    """A van driving a 1000 × 400 m rectangle ``passes`` times at 1 Hz; TVOC/toluene/xylene plume at HOT_XY."""
    rng = np.random.default_rng(seed)
    corners = np.array([[0, 0], [1000, 0], [1000, 400], [0, 400], [0, 0]], float)
    pts = []
    for a, b in zip(corners[:-1], corners[1:]):
        n = int(np.hypot(*(b - a)) / speed)
        pts.append(a + (b - a) * (np.arange(n) / n)[:, None])
    lap = np.vstack(pts)
    xy = np.vstack([lap] * passes)
    n = len(xy)
    xy = xy + rng.normal(0, gps_sigma, xy.shape)
    d2 = (xy[:, 0] - HOT_XY[0]) ** 2 + (xy[:, 1] - HOT_XY[1]) ** 2
    bump = plume * np.exp(-d2 / (2 * 40.0**2))
    t = pd.Timestamp(start) + pd.to_timedelta(np.arange(n), unit="s")
    lon, lat = xy_to_lonlat(xy[:, 0], xy[:, 1])
    return pd.DataFrame({
        "采样时间": t.strftime("%Y-%m-%d %H:%M:%S"), "经度": lon.round(7), "纬度": lat.round(7),
        "TVOC(ppb)": (40 + bump + rng.normal(0, 2, n)).round(2),
        "甲苯(ppb)": (1.5 + 0.3 * bump + rng.normal(0, 0.2, n)).round(3),
        "二甲苯(ppb)": (0.8 + 0.35 * bump + rng.normal(0, 0.15, n)).round(3),
        "SO2(ppb)": (4 + rng.normal(0, 0.6, n)).round(2),
        "风向(°)": (WIND_FROM + rng.normal(0, 8, n)).round(0), "风速(m/s)": 2.5,
    })


@pytest.fixture(scope="session")
def track_csv(tmp_path_factory) -> Path:
    """A 6-pass synthetic track as a UTF-8-BOM vendor CSV with Chinese headers."""
    p = tmp_path_factory.mktemp("mobile") / "走航_20250610.csv"
    loop_track().to_csv(p, index=False, encoding="utf-8-sig")
    return p


@pytest.fixture(scope="session")
def enterprises_csv(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("ent") / "enterprises.csv"
    ENTERPRISES.rename(columns={"enterprise_id": "统一社会信用代码", "name": "企业名称", "industry": "所属行业", "lon": "经度", "lat": "纬度"})[
        ["统一社会信用代码", "企业名称", "所属行业", "经度", "纬度"]].to_csv(p, index=False, encoding="utf-8-sig")
    return p


@pytest.fixture(scope="session")
def bangalore() -> Path:
    if not BANGALORE.exists():
        pytest.skip(f"real data {BANGALORE} is absent (../shared/data is not next to this checkout)")
    return BANGALORE
