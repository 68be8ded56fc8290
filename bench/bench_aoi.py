"""Benchmark parkscan.aoi.datum: speed on 1M points and inverse accuracy vs the usual one-step formula.

Run: ``.venv/bin/python bench/bench_aoi.py [N]``. Comparisons are measured in the same run:
pyproj WGS-84→CGCS2000 on the same points (a well-optimised C transform) and the common
one-step GCJ-02 inverse (``wgs ≈ gcj - delta(gcj)``), whose error the iteration removes.
"""
from __future__ import annotations

import sys
import time

import numpy as np

from parkscan.aoi.datum import _gcj_delta, convert, in_mainland_china


def timed(fn, *a):
    t = time.perf_counter()
    out = fn(*a)
    return out, time.perf_counter() - t


def main(n: int = 1_000_000) -> None:
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(100, 122, n), rng.uniform(22, 42, n)
    convert(lon[:10], lat[:10], "wgs84", "gcj02")  # warm: load the outline
    m, t_in = timed(in_mainland_china, lon, lat)
    print(f"{n:,} points, {m.mean():.0%} inside mainland China")
    print(f"in_mainland_china            {t_in:6.3f} s")
    _, t_cg = timed(convert, lon, lat, "wgs84", "cgcs2000")
    print(f"wgs84 -> cgcs2000 (pyproj)   {t_cg:6.3f} s   (comparison)")
    m_per_deg = 111_320.0
    for d in ("gcj02", "bd09"):
        (x, y), t_f = timed(convert, lon, lat, "wgs84", d)
        (bx, by), t_i = timed(convert, x, y, d, "wgs84")
        err = np.hypot((bx - lon) * m_per_deg * np.cos(np.radians(lat)), (by - lat) * m_per_deg)[m]
        print(f"wgs84 -> {d:6s}             {t_f:6.3f} s")
        print(f"{d:6s} -> wgs84 (iterative)  {t_i:6.3f} s   round-trip max error {err.max() * 1000:.6f} mm")
    x, y = convert(lon, lat, "wgs84", "gcj02")
    dx, dy = _gcj_delta(x[m], y[m])
    one = np.hypot((x[m] - dx - lon[m]) * m_per_deg * np.cos(np.radians(lat[m])), (y[m] - dy - lat[m]) * m_per_deg)
    print(f"gcj02 -> wgs84 one-step formula: max error {one.max():.2f} m, median {np.median(one):.2f} m (comparison)")


def bench_readers(n_parks: int = 300, n_ent: int = 10_000) -> None:
    """read_parks on a GeoJSON of ``n_parks`` parks and read_enterprises on a GBK CSV of ``n_ent`` rows."""
    import json
    import tempfile
    import warnings
    from pathlib import Path

    from parkscan.aoi import read_enterprises, read_parks

    d = Path(tempfile.mkdtemp())
    feats = []
    for i in range(n_parks):
        x, y = 100 + (i % 30) * 0.5, 25 + (i // 30) * 1.0
        feats.append({"type": "Feature", "properties": {"id": f"P{i}", "name": f"园区{i}"}, "geometry": {
            "type": "Polygon", "coordinates": [[[x, y], [x + .03, y], [x + .03, y + .02], [x, y + .02], [x, y]]]}})
    (d / "parks.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    rng = np.random.default_rng(0)
    rows = "\n".join(f"企业{i},{rng.uniform(110, 120):.6f},{rng.uniform(25, 35):.6f},化工" for i in range(n_ent))
    (d / "e.csv").write_bytes(("企业名称,经度,纬度,所属行业\n" + rows + "\n").encode("gbk"))
    _, t_p = timed(read_parks, d / "parks.geojson")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, t_e = timed(read_enterprises, d / "e.csv")
    print(f"read_parks, {n_parks} parks        {t_p:6.3f} s  ({1000 * t_p / n_parks:.1f} ms/park)")
    print(f"read_enterprises, {n_ent:,} rows GBK {t_e:6.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
    bench_readers()
