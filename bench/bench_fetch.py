"""Benchmark: bytes fetched for a 25 km² park window from a full-size Sentinel-2-like COG.

Makes a 10980 x 10980 uint16 COG (512 x 512 tiles, deflate + predictor, smooth field plus noise in
the low bits, so tiles compress to a realistic ~40 %), serves it from the Range-capable loopback
server, and reads a 5 km x 5 km park window (500 x 500 pixels at 10 m, not aligned with the tiles)
through parkscan's own path (STAC item → odc-stac → GDAL /vsicurl, ``load_items``). It prints:

* bytes served for the window read, against (a) the compressed bytes of the COG tiles that
  intersect the window (from the TIFF's ``BLOCK_OFFSET``/``BLOCK_SIZE`` tags) — goal <= 1.2x — and
  (b) the whole file (downloaded with ``HTTPSession.download``);
* wall times of both.

Run: ``.venv/bin/python bench/bench_fetch.py [--size 10980]``.
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "remote"))

from remote_loopback import LoopbackServer  # noqa: E402


def make_cog(path: Path, size: int, left: float, top: float, epsg: int) -> float:
    import rasterio
    from affine import Affine

    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    yy = np.linspace(0, 6 * math.pi, size, dtype="float32")[:, None]
    xx = np.linspace(0, 4 * math.pi, size, dtype="float32")[None, :]
    data = (2000 + 800 * np.sin(yy) * np.cos(xx)).astype("uint16")
    data += rng.integers(0, 64, size=(size, size), dtype="uint16")
    tr = Affine(10, 0, left, 0, -10, top)
    with rasterio.Env(GDAL_NUM_THREADS="2"):
        with rasterio.open(path, "w", driver="COG", width=size, height=size, count=1, dtype="uint16", crs=f"EPSG:{epsg}",
                           transform=tr, nodata=0, blocksize=512, compress="deflate", predictor=2, level=1,
                           overview_resampling="average", num_threads=2) as dst:
            dst.write(data, 1)
    return time.perf_counter() - t0


def tile_bytes(path: Path, window) -> tuple[int, int]:
    """Compressed bytes and count of the full-resolution tiles intersecting ``window`` (rasterio Window)."""
    import rasterio

    total, n = 0, 0
    with rasterio.open(path) as src:
        bh, bw = src.block_shapes[0]
        r0, r1 = int(window.row_off // bh), int((window.row_off + window.height - 1) // bh)
        c0, c1 = int(window.col_off // bw), int((window.col_off + window.width - 1) // bw)
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                total += int(src.get_tag_item(f"BLOCK_SIZE_{c}_{r}", "TIFF", bidx=1))
                n += 1
    return total, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=10980, help="raster width/height in pixels")
    ap.add_argument("--park-km", type=float, default=5.0, help="side of the square park, km (5 → 25 km²)")
    args = ap.parse_args()

    import pystac
    from rasterio.windows import from_bounds
    from shapely.geometry import box

    from parkscan.aoi.options import set_options
    from parkscan.aoi.park import Park
    from parkscan.sources.remote.http import HTTPSession
    from parkscan.sources.remote.stac_load import load_items, park_geobox

    # a park near Suzhou, its UTM zone 51N; the scene covers 109.8 km around it
    park_ll = (120.55, 31.25)
    tmp = Path(tempfile.mkdtemp(prefix="bench_fetch_"))
    server = LoopbackServer()
    try:
        probe = Park(id="probe", name="probe", approved=box(park_ll[0], park_ll[1], park_ll[0] + 0.01, park_ll[1] + 0.01))
        cx, cy = probe.lonlat_to_xy(park_ll[0], park_ll[1])
        epsg = probe.crs.to_epsg()
        left = math.floor((cx - args.size * 10 * 0.37) / 10) * 10 + 3  # window deliberately off the tile grid
        top = math.floor((cy + args.size * 10 * 0.41) / 10) * 10 + 7
        cog = tmp / "T51RUQ_20240501_B04.tif"
        gen = make_cog(cog, args.size, left, top, epsg)
        size_file = cog.stat().st_size
        url = server.add_file("/cogs/" + cog.name, cog)
        print(f"COG {args.size}x{args.size} uint16, 512 tiles, deflate: {size_file / 1e6:.1f} MB, made in {gen:.1f} s")

        # the park: a square of park_km x park_km in its UTM zone, no ring
        half = args.park_km * 1000 / 2
        x0, y0 = cx - half, cy - half
        xs, ys = [x0, x0 + 2 * half], [y0, y0 + 2 * half]
        lons, lats = probe.xy_to_lonlat(np.array(xs), np.array(ys))
        park = Park(id="bench", name="bench", approved=box(lons[0], lats[0], lons[1], lats[1]))
        assert park.crs.to_epsg() == epsg
        gbox = park_geobox(park, 10, ring_m=0)
        gb = gbox.boundingbox
        area_km2 = park.area_ha()["approved"] / 100

        fx = np.array([left, left + args.size * 10, left + args.size * 10, left, left])
        fy = np.array([top, top, top - args.size * 10, top - args.size * 10, top])
        flon, flat = park.xy_to_lonlat(fx, fy)
        footprint = {"type": "Polygon", "coordinates": [[[float(a), float(b)] for a, b in zip(flon, flat)]]}
        item = pystac.Item(id="bench", geometry=footprint,
                           bbox=[float(flon.min()), float(flat.min()), float(flon.max()), float(flat.max())], datetime=datetime(2024, 5, 1, tzinfo=timezone.utc),
                           properties={"proj:epsg": epsg})
        item.add_asset("red", pystac.Asset(href=url, media_type=pystac.MediaType.COG, roles=["data"],
                                           extra_fields={"proj:shape": [args.size, args.size],
                                                         "proj:transform": [10, 0, left, 0, -10, top],
                                                         "raster:bands": [{"nodata": 0, "data_type": "uint16"}]}))
        import rasterio

        with rasterio.open(cog) as src:
            win = from_bounds(gb.left, gb.bottom, gb.right, gb.top, src.transform).round_offsets().round_lengths()
        need, ntiles = tile_bytes(cog, win)

        server.reset_counts()
        with set_options(ring_m=1.0):
            t0 = time.perf_counter()
            ds = load_items([item], park, assets=["red"], resolution=10, resampling={"*": "nearest"}, ring_m=0)
            ds["red"].values  # noqa: B018 - force the read
            t_win = time.perf_counter() - t0
        got = server.total_bytes()
        nreq = len(server.requests)
        with rasterio.open(cog) as src:
            ref = src.read(1, window=win)
        # park grid and COG grid are offset by a few metres: compare window statistics, not pixel by pixel
        same = abs(float(ds["red"].values.mean()) / float(ref.mean()) - 1) < 0.01

        server.reset_counts()
        t0 = time.perf_counter()
        HTTPSession("bench").download(url, tmp / "whole.tif", expected_size=size_file)
        t_whole = time.perf_counter() - t0
        whole = server.total_bytes()

        print(f"park window: {area_km2:.1f} km², {gbox.shape[1]}x{gbox.shape[0]} px at 10 m; intersects {ntiles} COG tiles")
        print(f"(window) bytes served for the window read : {got:>12,d} B in {nreq} HTTP requests, {t_win:.2f} s"
              f"  (mean within 1 % of a local read: {same})")
        print(f"(a) bytes of the intersecting COG tiles    : {need:>12,d} B  -> ratio {got / need:.3f} (goal <= 1.2)")
        print(f"(b) whole file                             : {whole:>12,d} B in {t_whole:.2f} s"
              f"  -> window is {got / whole * 100:.2f} % of it, {whole / got:.0f}x fewer bytes")
    finally:
        server.close()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
