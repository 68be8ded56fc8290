"""A small satellite scenario with planted truth (hot roofs, persistent heat sources, an NO2 plume), for tests and bench.

Writes files in the real layouts: S5P L2 netCDF (PRODUCT group), Landsat C2 L2 ST_B10 GeoTIFF, FIRMS VIIRS CSV.
"""
from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from _sat_s5p import field_file

__all__ = ["make_park", "write_scene"]

FIRMS_COLS = ["latitude", "longitude", "bright_ti4", "scan", "track", "acq_date", "acq_time", "satellite", "instrument",
              "confidence", "version", "bright_ti5", "frp", "daynight"]


def make_park(lon0: float = 120.60, lat0: float = 31.30, half_deg: float = 0.02, n_ent: int = 12, seed: int = 0):
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import box

    from parkscan.aoi import Park

    rng = np.random.default_rng(seed)
    park = Park(id="SAT", name="卫星测试园区", approved=box(lon0 - half_deg, lat0 - half_deg, lon0 + half_deg, lat0 + half_deg))
    lon = lon0 + rng.uniform(-0.8, 0.8, n_ent) * half_deg
    lat = lat0 + rng.uniform(-0.8, 0.8, n_ent) * half_deg
    ent = pd.DataFrame({"enterprise_id": [f"E{i:02d}" for i in range(n_ent)], "name": [f"企业{i}" for i in range(n_ent)],
                        "industry": [None] * n_ent, "lon": lon, "lat": lat})
    return park.with_enterprises(gpd.GeoDataFrame(ent, geometry=gpd.points_from_xy(lon, lat), crs=4326))


def plume_field(src, e_kg_s, u_ms, wind_from_deg, bg=2e-5, tau=4 * 3600.0):
    """Column (mol m-2) of a steady point source with first-order loss, advected by a uniform wind."""
    emol = e_kg_s / 1.32 / 0.0460055
    d = np.radians(wind_from_deg)
    ue, vn = -np.sin(d), -np.cos(d)

    def f(lo, la):
        x = (lo - src[0]) * 111320 * np.cos(np.radians(src[1]))
        y = (la - src[1]) * 110570
        a = x * ue + y * vn          # along wind
        c = -x * vn + y * ue         # across wind
        sy = 300 + 0.15 * np.abs(a)
        v = np.where(a > 0, emol / (u_ms * np.sqrt(2 * np.pi) * sy) * np.exp(-c**2 / (2 * sy**2))
                     * np.exp(-np.maximum(a, 0) / (u_ms * tau)), 0.0)
        return bg + v
    return f


def write_scene(out: Path, *, seed: int = 0, n_days: int = 20, no2_kg_s: float = 0.4, n_roofs: int = 3, n_persistent: int = 2,
                n_veg: int = 3, wind=(270.0, 4.0), noise=1.5e-5):
    """Write s5p/, thermal/, fires/ and truth.json under ``out``; return (park, truth)."""
    import rasterio

    rng = np.random.default_rng(seed)
    out = Path(out)
    park = make_park(seed=seed)
    ent = park.enterprises
    truth = {"wind": {"from_deg": wind[0], "speed_ms": wind[1]}, "hot_roofs": [], "heat_sources": [], "no2": None}
    # --- NO2 plume from one enterprise
    (out / "s5p").mkdir(parents=True, exist_ok=True)
    src = (float(ent.lon.iloc[0]), float(ent.lat.iloc[0]))
    f = plume_field(src, no2_kg_s, wind[1], wind[0])
    for d in range(n_days):
        field_file(out / "s5p", day=d, lon0=park.footprint.centroid.x, lat0=park.footprint.centroid.y, field=f, noise=noise,
                   rng=np.random.default_rng(seed * 1000 + d), nscan=36, npix=30)
    truth["no2"] = {"lon": src[0], "lat": src[1], "nox_kg_s": no2_kg_s, "enterprise_id": "E00"}
    # --- Landsat ST_B10 with hot roofs at enterprises 1..n_roofs
    g = park.grid(30, ring_m=1500)
    x, y = g.coords()
    X, Y = np.meshgrid(x, y)
    T = 303 + 0.0004 * (X - X.mean()) + rng.normal(0, 0.7, g.shape)
    water = (X - X.min()) < 300  # a river strip on the west edge, cooler
    T[water] -= 6
    for i in range(1, 1 + n_roofs):
        ex, ey = park.lonlat_to_xy(ent.lon.iloc[i], ent.lat.iloc[i])
        w = rng.uniform(40, 90)
        m = (np.abs(X - ex) < w) & (np.abs(Y - ey) < w * 0.7)
        dt = rng.uniform(5, 12)
        T[m] += dt
        truth["hot_roofs"].append({"lon": float(ent.lon.iloc[i]), "lat": float(ent.lat.iloc[i]), "delta_k": dt, "enterprise_id": ent.enterprise_id.iloc[i]})
    dn = np.clip(np.round((T - 149.0) / 0.00341802), 1, 65535).astype("uint16")
    (out / "thermal").mkdir(exist_ok=True)
    tif = out / "thermal" / "LC08_L2SP_118038_20200806_20200916_02_T1_ST_B10.TIF"
    with rasterio.open(tif, "w", driver="GTiff", width=g.width, height=g.height, count=1, dtype="uint16",
                       crs=g.crs.to_wkt(), transform=g.transform, nodata=0) as ds:
        ds.write(dn, 1)
    # --- FIRMS: persistent sources at enterprises, vegetation fires in the ring, lone false alarms
    rows = []
    d0 = date(2020, 3, 1)
    span = 60
    k0 = 1 + n_roofs
    for j in range(n_persistent):
        i = k0 + j
        lon, lat = float(ent.lon.iloc[i]), float(ent.lat.iloc[i])
        days = sorted(rng.choice(span, size=int(rng.integers(8, 20)), replace=False))
        for dd in days:
            ox, oy = rng.normal(0, 150, 2)
            rows.append((lat + oy / 110570, lon + ox / 95000, d0 + timedelta(days=int(dd)), rng.uniform(3, 40)))
        truth["heat_sources"].append({"lon": lon, "lat": lat, "enterprise_id": ent.enterprise_id.iloc[i], "n_dates": len(days)})
    for _ in range(n_veg):
        ang = rng.uniform(0, 2 * np.pi)
        r = rng.uniform(2500, 4000)
        c = park.footprint.centroid
        cx, cy = park.lonlat_to_xy(c.x, c.y)
        vx, vy = cx + r * np.cos(ang), cy + r * np.sin(ang)
        dd = int(rng.integers(0, span))
        for _k in range(int(rng.integers(1, 5))):
            lo, la = park.xy_to_lonlat(vx + rng.normal(0, 300), vy + rng.normal(0, 300))
            rows.append((float(la), float(lo), d0 + timedelta(days=dd + int(rng.integers(0, 2))), rng.uniform(2, 15)))
    rows.append((31.2, 120.3, d0 + timedelta(days=span - 1), 3.0))  # far away, sets the observed span
    rows.append((31.2, 120.3, d0, 3.0))
    (out / "fires").mkdir(exist_ok=True)
    with open(out / "fires" / "firms_viirs_snpp.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(FIRMS_COLS)
        for la, lo, dd, frp in rows:
            hhmm = int(rng.choice([518, 542, 1736, 1812]))
            w.writerow([f"{la:.5f}", f"{lo:.5f}", f"{rng.uniform(300, 367):.2f}", "0.39", "0.36", dd.isoformat(), hhmm, "N", "VIIRS",
                        rng.choice(["n", "h", "l"]), "2.0NRT", f"{rng.uniform(275, 300):.2f}", f"{frp:.2f}", "D" if hhmm < 1200 else "N"])
    (out / "truth.json").write_text(json.dumps(truth, indent=1, default=str))
    (out / "scenario.json").write_text(json.dumps({"wind": truth["wind"]}, indent=1))  # the wind is an input, as simulate writes it
    return park, truth
