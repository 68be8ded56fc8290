"""VIIRS S-NPP active-fire detections as a FIRMS CSV (the columns and formats NASA publishes).

Persistent industrial heat sources (a thermal power plant, steel works) are detected on many overpasses over the
period, with VIIRS 375 m geolocation scatter; one-off straw/vegetation fires burn on farmland outside the park in the
June wheat-harvest season (typical of Jiangsu).
"""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from rasterio.transform import xy

from parkscan.aoi.atomic import write_bytes

from .presets import Preset
from .scene import Scene

__all__ = ["FIRMS_COLUMNS", "FIRES_FILE", "simulate_fires"]

FIRMS_COLUMNS = ["latitude", "longitude", "bright_ti4", "scan", "track", "acq_date", "acq_time", "satellite",
                 "instrument", "confidence", "version", "bright_ti5", "frp", "daynight"]
FIRES_FILE = "fires/firms_viirs_snpp.csv"
_END = date(2025, 6, 30)


def _row(rng, lat, lon, day: date, daynight: str, hot: float):
    scan = rng.uniform(0.38, 0.62)
    track = min(scan, rng.uniform(0.36, 0.6))
    if daynight == "D":
        t4, t5, hhmm = 300 + hot * rng.uniform(0.6, 1.0), rng.uniform(294, 306), 500 + int(rng.integers(0, 45))
    else:
        t4, t5, hhmm = 292 + hot * rng.uniform(0.7, 1.0), rng.uniform(284, 294), 1712 + int(rng.integers(0, 45))
    t4 = min(t4, 367.0)
    conf = "h" if t4 >= 360 else ("l" if t4 < 310 and daynight == "D" else "n")
    frp = max(0.4, hot / 6 * rng.lognormal(0, 0.5))
    return [f"{lat:.5f}", f"{lon:.5f}", f"{t4:.2f}", f"{scan:.2f}", f"{track:.2f}", day.isoformat(), f"{hhmm:04d}", "N",
            "VIIRS", conf, "2.0NRT", f"{t5:.2f}", f"{frp:.2f}", daynight]


def simulate_fires(out_dir: Path, scene: Scene, preset: Preset, rng: np.random.Generator) -> dict:
    """Write the FIRMS CSV and return the truth record (persistent heat sources, one-off fires)."""
    rows: list[tuple] = []
    start = _END - timedelta(days=preset.fire_days - 1)
    persistent = []
    for e in scene.enterprises:
        if e.industry not in ("热电", "钢铁"):
            continue
        roof = max(e.roofs, key=lambda p: p.area).centroid
        p_det = 0.30 if e.industry == "热电" else 0.45
        hot = 35.0 if e.industry == "热电" else 50.0
        n = 0
        dates = set()
        for k in range(preset.fire_days):
            day = start + timedelta(days=k)
            for dn in ("D", "N"):
                if rng.random() < p_det:
                    x, y = roof.x + rng.normal(0, 180), roof.y + rng.normal(0, 180)
                    lon, lat = scene.lonlat(x, y)
                    rows.append((day, dn, _row(rng, float(lat), float(lon), day, dn, hot)))
                    n += 1
                    dates.add(day)
        lon, lat = scene.lonlat(roof.x, roof.y)
        persistent.append({"enterprise_id": e.enterprise_id, "industry": e.industry, "lon": float(lon), "lat": float(lat),
                           "x": roof.x, "y": roof.y, "n_detections": n, "n_dates": len(dates),
                           "detection_probability_per_overpass": p_det})
    oneoff = []
    crop = np.argwhere(scene.lc_before == 3)
    managed_far = scene.managed.buffer(800)
    from shapely.geometry import Point

    n_fire = 6 if preset.name != "small" else 4
    while len(oneoff) < n_fire:
        r, c = crop[int(rng.integers(len(crop)))]
        x, y = xy(scene.transform, int(r), int(c))
        if managed_far.contains(Point(x, y)):
            continue
        day = date(2025, 6, int(rng.integers(2, 16)))
        lon, lat = scene.lonlat(x, y)
        rows.append((day, "D", _row(rng, float(lat), float(lon), day, "D", 55.0)))
        oneoff.append({"lon": float(lon), "lat": float(lat), "x": float(x), "y": float(y), "date": day.isoformat(),
                       "kind": "straw burning"})
    rows.sort(key=lambda t: (t[0], t[1] == "N", t[2][6], t[2][0]))
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(FIRMS_COLUMNS)
    w.writerows(r for *_, r in rows)
    write_bytes(out_dir / FIRES_FILE, buf.getvalue().encode("ascii"))
    return {"file": FIRES_FILE, "period": [start.isoformat(), _END.isoformat()], "persistent": persistent,
            "one_off": oneoff, "n_rows": len(rows)}
