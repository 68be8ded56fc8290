"""Benchmark: land-cover prediction speed and memory, dask-chunked vs naive, same model in the same run.

Run: ``.venv/bin/python bench/bench_landcover.py [--size 4000] [--workers 2]``

1. Speed: a 4000 × 4000 × 10 feature array (Sentinel-2-like spectra of the five park classes + noise), the
   default random forest of ``parkscan.models.landcover`` trained on 20 000 labelled pixels; naive
   ``clf.predict(whole_array)`` with ``n_jobs=1`` against ``predict_features_dask`` on ``--workers`` threads.
   Both outputs must be identical (equal accuracy), and the accuracy against the generating classes is printed.
2. Memory: peak RSS of a child process that predicts a ``--rss-size``² 10-band uint16 GeoTIFF (a) naively
   (read all, predict) and (b) lazily (rioxarray chunks → dask prediction → block-wise GeoTIFF write).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SPECTRA = np.array([
    [0.12, 0.13, 0.14, 0.15, 0.16, 0.17, 0.18, 0.18, 0.24, 0.21],
    [0.04, 0.07, 0.05, 0.10, 0.22, 0.28, 0.33, 0.34, 0.20, 0.11],
    [0.02, 0.05, 0.03, 0.08, 0.25, 0.33, 0.40, 0.41, 0.17, 0.08],
    [0.06, 0.07, 0.05, 0.04, 0.03, 0.03, 0.03, 0.02, 0.01, 0.01],
    [0.09, 0.12, 0.16, 0.19, 0.21, 0.22, 0.23, 0.24, 0.30, 0.26],
], "float32")


def scene(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Blocky class layout (64-px patches) and noisy spectra (y, x, 10) float32."""
    rng = np.random.default_rng(seed)
    k = -(-n // 64)
    cls = np.repeat(np.repeat(rng.integers(0, 5, (k, k)), 64, 0), 64, 1)[:n, :n]
    X = SPECTRA[cls]
    X += rng.normal(0, 0.03, X.shape).astype("float32")
    return X, cls + 1


def model(seed: int = 0):
    from parkscan.models.landcover.features import FeatureSpec
    from parkscan.models.landcover.model import train_model

    X, y = scene(400, seed=seed + 1)
    rng = np.random.default_rng(seed)
    idx = rng.choice(X.shape[0] * X.shape[1], 20000, replace=False)
    Xs, ys = X.reshape(-1, 10)[idx], y.ravel()[idx]
    spec = FeatureSpec(bands=("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"), indices=(),
                       index_stats=())
    return train_model(Xs[:, None, :], ys[:, None], spec, seed=seed)


def speed(n: int, workers: int) -> dict:
    import dask

    from parkscan.models.landcover.predict import predict_features_dask

    m = model()
    X, truth = scene(n)
    t0, c0 = time.perf_counter(), time.process_time()
    naive = m.estimator.set_params(n_jobs=1).predict(X.reshape(-1, 10)).reshape(n, n)
    t_naive, c_naive = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    with dask.config.set(scheduler="threads", num_workers=workers):
        chunked = predict_features_dask(m, X, chunk=1024).compute()
    t_dask, c_dask = time.perf_counter() - t0, time.process_time() - c0
    px = n * n
    return {"pixels": px, "naive_s": t_naive, "naive_px_s": px / t_naive, "dask_s": t_dask, "dask_px_s": px / t_dask,
            "naive_px_per_cpu_s": px / c_naive, "dask_px_per_cpu_s": px / c_dask, "load_avg": os.getloadavg()[0],
            "identical": bool((naive == chunked).all()), "accuracy": float((chunked == truth).mean()), "workers": workers}


def profile(block: int = 1000) -> dict:
    """Where a block's time goes: feature computation (default FeatureSpec, one date) vs the forest's predict."""
    from parkscan.models.landcover.features import S2_BANDS, FeatureSpec
    from parkscan.models.landcover.model import train_model

    X, y = scene(block, seed=3)
    cube = X.transpose(2, 0, 1)[None]  # (time=1, band=10, y, x), bands in S2_BANDS order
    spec = FeatureSpec(bands=S2_BANDS)
    res = {"block": block}
    for name, sp in (("raw bands (bench model)", None), ("default FeatureSpec", spec)):
        if sp is None:
            m = model()
            t0 = time.perf_counter()
            f = X
        else:
            t0 = time.perf_counter()
            f = sp.compute(cube)
            t_feat = time.perf_counter() - t0
            rng = np.random.default_rng(0)
            idx = rng.choice(block * block, 20000, replace=False)
            m = train_model(f.reshape(-1, f.shape[-1])[idx][:, None], y.ravel()[idx][:, None], sp, seed=0)
        if sp is None:
            t_feat = 0.0
        t0 = time.perf_counter()
        m.predict_features(f)
        t_pred = time.perf_counter() - t0
        res[name] = {"features_s": t_feat, "predict_s": t_pred, "n_features": f.shape[-1]}
    res["cube_model"] = m
    return res


def cube_speed(m, n: int, workers: int) -> dict:
    """End-to-end production path: reflectance cube (1 date × 10 bands) → FeatureSpec per block → forest, 2 threads."""
    import dask

    from parkscan.models.landcover.predict import predict_cube_dask

    X, truth = scene(n)
    cube = X.transpose(2, 0, 1)[None]
    del X
    t0 = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=workers):
        lab = predict_cube_dask(m, cube, chunk=1024).compute()
    dt = time.perf_counter() - t0
    # the same model with a learned thinning rule (two dask passes: probabilities, then the rule with its halo)
    import copy

    mt = copy.copy(m)
    mt.thinning = {int(m.classes[0]): ["east"]}
    t0 = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=workers):
        lab_t = predict_cube_dask(mt, cube, chunk=1024).compute()
    dt_t = time.perf_counter() - t0
    return {"cube_s": dt, "cube_px_s": n * n / dt, "accuracy": float((lab == truth).mean()),
            "thinned_s": dt_t, "thinned_px_s": n * n / dt_t, "thinned_changed": float((lab_t != lab).mean())}


CHILD = r"""
import sys, json, resource, time, numpy as np
mode, tif, model_path, out = sys.argv[1:5]
from parkscan.models.landcover.model import load_model
m = load_model(model_path)
t0 = time.perf_counter()
if mode == "imports":
    import dask, rioxarray, rasterio, sklearn.ensemble
    from parkscan.models.landcover.predict import predict_features_dask
elif mode == "naive":
    import rasterio
    with rasterio.open(tif) as s:
        X = (s.read().astype("float32") * 1e-4).transpose(1, 2, 0)
    y = m.estimator.predict(X.reshape(-1, X.shape[-1])).reshape(X.shape[:2]).astype("uint8")
else:
    import dask, rioxarray, rasterio
    from parkscan.models.landcover.predict import predict_features_dask
    da_ = rioxarray.open_rasterio(tif, chunks={"band": -1, "x": 1024, "y": 1024}).data
    feats = (da_.astype("float32") * 1e-4).transpose(1, 2, 0)
    lab = predict_features_dask(m, feats, chunk=1024)
    with rasterio.open(tif) as s:
        prof = dict(s.profile, count=1, dtype="uint8", nodata=0, tiled=True, blockxsize=512, blockysize=512)
    from rasterio.windows import Window

    class Sink:  # da.store target writing each block into its window
        def __init__(self, dst):
            self.dst = dst
        def __setitem__(self, idx, block):
            r, c = idx
            self.dst.write(block, 1, window=Window(c.start, r.start, c.stop - c.start, r.stop - r.start))

    with dask.config.set(scheduler="threads", num_workers=2):
        with rasterio.open(out, "w", **prof) as dst:
            import dask.array as da
            da.store(lab, Sink(dst), lock=True)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]  # peak RSS of this exec
print(json.dumps({"mode": mode, "seconds": time.perf_counter() - t0, "peak_rss_mb": int(hwm) / 1024}))
"""


def memory(n: int, modes=("imports", "naive", "dask")) -> list[dict]:
    import rasterio
    from affine import Affine

    m = model()
    X, _ = scene(n, seed=5)
    with tempfile.TemporaryDirectory() as tmp:
        tif = Path(tmp) / "tile.tif"
        prof = {"driver": "GTiff", "dtype": "uint16", "count": 10, "height": n, "width": n, "crs": "EPSG:32651",
                "transform": Affine(10, 0, 300000, 0, -10, 3500000), "tiled": True, "blockxsize": 512, "blockysize": 512}
        with rasterio.open(tif, "w", **prof) as dst:
            dst.write(np.clip(X * 1e4, 1, 65535).astype("uint16").transpose(2, 0, 1))
        del X
        mp = Path(tmp) / "m.joblib"
        m.save(mp)
        res = []
        for mode in modes:
            env = dict(os.environ, GDAL_CACHEMAX="64")  # GDAL's block cache would otherwise grow to 5 % of RAM
            r = subprocess.run([sys.executable, "-c", CHILD, mode, str(tif), str(mp), str(Path(tmp) / f"{mode}.tif")],
                               capture_output=True, text=True, check=True, env=env)
            res.append(json.loads(r.stdout.strip().splitlines()[-1]))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=4000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rss-size", type=int, default=4000)
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--modes", nargs="+", default=["imports", "naive", "dask"], help="memory runs: imports naive dask")
    a = ap.parse_args()
    print(f"cpus visible: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    s = None if a.skip_speed else speed(a.size, a.workers)
    if s:
        _print_speed(a, s)
        pr = profile()
        print(f"profile of one {pr['block']}² block on one thread (load average {os.getloadavg()[0]:.1f}):")
        for k, v in pr.items():
            if isinstance(v, dict):
                print(f"  {k:<24} {v['n_features']:3d} features: compute {v['features_s']:5.2f} s, predict {v['predict_s']:5.2f} s")
        c = cube_speed(pr["cube_model"], a.size, a.workers)
        print(f"  end to end, predict_cube_dask (1 date × 10 bands → default FeatureSpec → forest), {a.workers} threads: "
              f"{c['cube_s']:.1f} s, {c['cube_px_s'] / 1e6:.2f} M px/s, accuracy {c['accuracy']:.4f} "
              f"(load average {os.getloadavg()[0]:.1f})")
        print(f"  same, with a learned thinning rule (two passes): {c['thinned_s']:.1f} s, {c['thinned_px_s'] / 1e6:.2f} M px/s "
              f"({c['thinned_changed']:.2%} of pixels thinned)")
    if not a.skip_memory:
        for r in memory(a.rss_size, a.modes):
            print(f"  peak RSS, {a.rss_size}² × 10-band uint16 GeoTIFF → class map, {r['mode']:<5}: "
                  f"{r['peak_rss_mb']:7.0f} MB in {r['seconds']:.1f} s")
    if s:
        print(json.dumps(s))


def _print_speed(a, s) -> None:
    print(f"speed on {a.size}×{a.size}×10 ({s['pixels'] / 1e6:.0f} M px), same model, same run:")
    print(f"  naive clf.predict(whole), n_jobs=1 : {s['naive_s']:6.1f} s  {s['naive_px_s'] / 1e6:5.2f} M px/s")
    print(f"  dask chunks 1024², {s['workers']} threads    : {s['dask_s']:6.1f} s  {s['dask_px_s'] / 1e6:5.2f} M px/s"
          f"  (×{s['naive_s'] / s['dask_s']:.2f})")
    print(f"  outputs identical: {s['identical']}, accuracy vs generating classes {s['accuracy']:.4f}")
    print(f"  per CPU-second (independent of other load): naive {s['naive_px_per_cpu_s'] / 1e6:.2f} M px, dask "
          f"{s['dask_px_per_cpu_s'] / 1e6:.2f} M px → on {s['workers']} dedicated cores ≈ "
          f"{s['dask_px_per_cpu_s'] * s['workers'] / 1e6:.2f} M px/s (load average during the run {s['load_avg']:.1f})")


if __name__ == "__main__":
    main()
