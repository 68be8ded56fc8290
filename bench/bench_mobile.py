"""Mobile-monitoring benchmark and evaluation (not installed, not part of the test suite).

    python bench/bench_mobile.py perf [--points 1000000]      # ingest → segments → Gi*, vs naive row-by-row pandas
    python bench/bench_mobile.py eval [--seeds 20] [--presets small,typical,hard] [--out results.json]
    python bench/bench_mobile.py plan [--seeds 3] [--pollutants tvoc,so2]   # campaign planner on simulated parks
    python bench/bench_mobile.py lur [--seeds 5] [--presets typical] [--pollutants tvoc,so2]  # LUR with/without land cover

``perf`` writes a synthetic 1 Hz CSV of N points driving a road grid, then times
read_mobile → background → build_segments → gi_star, and a naive implementation (row-by-row
``iterrows`` cleaning and nearest-seed assignment, per-segment pandas loops) on a subsample,
extrapolated linearly to N and printed as a ratio.

``eval`` simulates scenarios (``parkscan.sources.simulate.simulate``) and reports precision/recall of the
leaking-enterprise ranking in the top-k (k = number of true sources), and the median distance from each true
source to the nearest of the top-k hotspots — for parkscan and for the naive "highest raw reading"
ranking, in the same run.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


# ----------------------------------------------------------------------------------------------- perf
def write_synthetic(path: Path, n: int, seed: int = 0) -> None:
    """A 1 Hz drive over a 6 × 6 km grid of roads (300 m blocks) with two plumes, as a Chinese vendor CSV."""
    rng = np.random.default_rng(seed)
    speed = 8.0
    block = 300.0
    # random walk on the grid: move along x or y to a neighbouring intersection
    xs, ys = [0.0], [0.0]
    x, y = 0.0, 0.0
    total = 0
    while total < n:
        if rng.random() < 0.5:
            nx, ny = np.clip(x + rng.choice([-block, block]), 0, 6000), y
        else:
            nx, ny = x, np.clip(y + rng.choice([-block, block]), 0, 6000)
        steps = max(1, int(np.hypot(nx - x, ny - y) / speed))
        xs.extend(np.linspace(x, nx, steps + 1)[1:])
        ys.extend(np.linspace(y, ny, steps + 1)[1:])
        total += steps
        x, y = nx, ny
    xs = np.array(xs[:n]) + rng.normal(0, 3, n)
    ys = np.array(ys[:n]) + rng.normal(0, 3, n)
    lon = 120.60 + xs / (111320 * np.cos(np.radians(31.3)))
    lat = 31.25 + ys / 110540
    t0 = np.datetime64("2025-06-01T08:00:00")
    times = (t0 + np.arange(n).astype("timedelta64[s]")).astype(str)
    plume = 200 * np.exp(-((xs - 2100) ** 2 + (ys - 3000) ** 2) / (2 * 150**2)) + 80 * np.exp(-((xs - 4500) ** 2 + (ys - 1200) ** 2) / (2 * 200**2))
    tvoc = 45 + plume + rng.normal(0, 4, n)
    no2 = 18 + 0.2 * plume + rng.normal(0, 2, n)
    df = pd.DataFrame({"采样时间": [s.replace("T", " ") for s in times], "经度": lon.round(6), "纬度": lat.round(6),
                       "TVOC(ppb)": tvoc.round(1), "NO2(ppb)": no2.round(1), "风向(°)": 90, "风速(m/s)": 2.5})
    df.to_csv(path, index=False, encoding="utf-8-sig")


def naive_pipeline(path: Path, spacing: float = 30.0) -> pd.DataFrame:
    """Row-by-row pandas: iterrows cleaning, Python nearest-seed assignment, per-segment loops, Gi* by loops."""
    df = pd.read_csv(path, encoding="utf-8-sig")
    rows = []
    prev_t = None
    for _, r in df.iterrows():
        t = pd.Timestamp(r["采样时间"])
        if prev_t is not None and t <= prev_t:
            continue
        prev_t = t
        x = (r["经度"] - 120.60) * 111320 * np.cos(np.radians(31.3))
        y = (r["纬度"] - 31.25) * 110540
        rows.append((x, y, r["TVOC(ppb)"]))
    seeds: list[tuple[float, float]] = []
    seg = []
    for x, y, v in rows:
        best, bd = -1, spacing
        for i, (sx, sy) in enumerate(seeds[-200:]):  # even with a window the loop is O(n × 200)
            d = ((sx - x) ** 2 + (sy - y) ** 2) ** 0.5
            if d < bd:
                best, bd = len(seeds) - min(200, len(seeds)) + i, d
        if best < 0:
            seeds.append((x, y))
            best = len(seeds) - 1
        seg.append(best)
    d = pd.DataFrame(rows, columns=["x", "y", "v"])
    d["seg"] = seg
    med = {s: g["v"].median() for s, g in d.groupby("seg")}
    return pd.DataFrame({"seg": list(med), "v": list(med.values())})


def perf(n: int) -> dict:
    from parkscan.models.mobile.background import add_background
    from parkscan.models.mobile.hotspots import gi_star
    from parkscan.models.mobile.segments import build_segments, local_crs
    from parkscan.sources.mobile import read_mobile

    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "big.csv"
        t = time.perf_counter()
        write_synthetic(f, n)
        print(f"wrote {n:,} points ({f.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")
        times = {}
        t0 = time.perf_counter()
        run = read_mobile(f)
        times["ingest+clean"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        pts = add_background(run.points, run.pollutants)
        times["background"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        seg = build_segments(pts, run.pollutants, crs=local_crs(pts["lon"].to_numpy(), pts["lat"].to_numpy()))
        times["segments"] = time.perf_counter() - t2
        t3 = time.perf_counter()
        tb = seg.table
        g = gi_star(tb["x"].to_numpy(), tb["y"].to_numpy(), tb["ex_tvoc"].to_numpy())
        times["gi_star"] = time.perf_counter() - t3
        total = time.perf_counter() - t0
        print(f"parkscan: {total:.2f} s for {n:,} points → {len(tb):,} segments, {int(g['hot'].sum())} hot "
              f"({', '.join(f'{k} {v:.2f} s' for k, v in times.items())})")
        sub = min(n, 20000)
        fs = Path(tmp) / "sub.csv"
        pd.read_csv(f, nrows=sub, encoding="utf-8-sig").to_csv(fs, index=False, encoding="utf-8-sig")
        t = time.perf_counter()
        naive_pipeline(fs)
        tn = time.perf_counter() - t
        naive_total = tn * n / sub
        print(f"naive row-by-row pandas: {tn:.2f} s for {sub:,} points → extrapolated {naive_total:.0f} s for {n:,} "
              f"(without Gi*) ; speed-up ×{naive_total / total:.0f}")
        return {"n": n, "seconds": total, "stages": times, "segments": len(tb), "naive_seconds_extrapolated": naive_total,
                "naive_subsample": sub, "naive_subsample_seconds": tn, "speedup": naive_total / total}


# ----------------------------------------------------------------------------------------------- eval
def eval_one(preset: str, seed: int, workdir: Path, lag="auto") -> dict:
    from parkscan.aoi import read_enterprises, read_park
    from parkscan.models.mobile import analyse
    from parkscan.models.mobile.analysis import enterprise_xy
    from parkscan.models.mobile.evaluate import localisation_errors, naive_locations, naive_ranking, topk_scores
    from parkscan.sources.mobile import read_mobile
    from parkscan.sources.simulate import simulate

    sc = simulate(workdir / f"{preset}-{seed}", seed=seed, preset=preset)
    park = read_park(sc.park)
    ent = read_enterprises(sc.enterprises)
    t = time.perf_counter()
    run = read_mobile(list(sc.mobile), datum=sc.mobile_datum, tz=sc.truth["mobile"].get("timezone"))
    a = analyse(run, crs=park.crs, enterprises=ent, lag=lag)
    secs = time.perf_counter() - t
    truth = {str(s["enterprise_id"]) for s in sc.truth["sources"]}
    k = len(truth)
    ours = [str(e) for e in a.enterprise_scores["enterprise_id"]]
    ex, ey = enterprise_xy(ent, park.crs)
    naive = naive_ranking(a.points, a.pollutants, ex, ey, ent["enterprise_id"].astype(str).to_numpy())
    tr = park.lonlat_to_xy([s["lon"] for s in sc.truth["sources"]], [s["lat"] for s in sc.truth["sources"]])
    true_xy = np.column_stack(tr)
    hs = a.hotspots.assign(w=a.hotspots["severity"] * a.hotspots["confidence"]).sort_values("w", ascending=False)
    ours_xy = hs[["x", "y"]].to_numpy()[:k]
    naive_xy = naive_locations(a.points, a.pollutants, k)
    # naive source localisation: the enterprise nearest to each of its top-k raw maxima
    from scipy.spatial import cKDTree

    naive_src = np.column_stack([ex, ey])[cKDTree(np.column_stack([ex, ey])).query(naive_xy)[1]] if len(naive_xy) else naive_xy
    # industries: NMF factors vs the hotspot fingerprints (plain statistics), against the true sources' industries
    from parkscan.models.mobile.attribution import industry_key
    from parkscan.aoi.errors import ModelError
    from parkscan.models.mobile.ml import nmf_apportion

    true_ind = [industry_key(s["industry"]) for s in sc.truth["sources"]]
    try:
        nmf_ind = set(nmf_apportion(a.points, a.pollutants, seed=seed).matches["industry"])
    except ModelError:  # too few complete rows: no factor recovered
        nmf_ind = set()
    fp_hit = []
    for s_, ind in zip(sc.truth["sources"], true_ind):
        if not len(a.hotspots):
            fp_hit.append(False)
            continue
        sx, sy = park.lonlat_to_xy(s_["lon"], s_["lat"])
        near = int(np.argmin(np.hypot(a.hotspots["x"] - sx, a.hotspots["y"] - sy)))
        fp_hit.append(a.hotspots["fingerprint"].iloc[near]["industry"] == ind)
    p_o, r_o = topk_scores(ours, truth, k)
    p_n, r_n = topk_scores(naive, truth, k)
    # source localisation: the best-attributed enterprise of each of the top-k hotspots (its road position without one)
    src_xy = []
    for _, h in hs.head(k).iterrows():
        if h["candidates"]:
            i = int(np.flatnonzero(ent["enterprise_id"].astype(str).to_numpy() == h["candidates"][0]["enterprise_id"])[0])
            src_xy.append((ex[i], ey[i]))
        else:
            src_xy.append((h["x"], h["y"]))
    ls = localisation_errors(np.array(src_xy).reshape(-1, 2), true_xy)
    lo = localisation_errors(ours_xy, true_xy)
    ln = localisation_errors(naive_xy, true_xy)
    lns = localisation_errors(naive_src, true_xy)
    return {"preset": preset, "seed": seed, "k": k, "precision": p_o, "recall": r_o, "naive_precision": p_n, "naive_recall": r_n,
            "loc_err_m": float(np.median(lo)), "src_loc_err_m": float(np.median(ls)), "naive_loc_err_m": float(np.median(ln)), "naive_src_loc_err_m": float(np.median(lns)), "n_hotspots": len(a.hotspots),
            "nmf_industry_recall": float(np.mean([i in nmf_ind for i in true_ind])), "fingerprint_industry_recall": float(np.mean(fp_hit)),
            "seconds": secs, "passes_median": float(a.segments.table["n_passes"].median())}


def evaluate(presets: list[str], seeds: int, out: Path | None, lag="auto", seed0: int = 0) -> list[dict]:
    warnings.simplefilter("ignore")
    res = []
    with tempfile.TemporaryDirectory() as tmp:
        for preset in presets:
            for seed in range(seed0, seed0 + seeds):
                r = eval_one(preset, seed, Path(tmp), lag=lag)
                res.append(r)
                print(json.dumps(r), flush=True)
    df = pd.DataFrame(res)
    summary = df.groupby("preset").agg(
        runs=("seed", "size"), precision=("precision", "mean"), recall=("recall", "mean"), naive_precision=("naive_precision", "mean"),
        naive_recall=("naive_recall", "mean"), loc_err_m=("loc_err_m", "median"), src_loc_err_m=("src_loc_err_m", "median"), naive_loc_err_m=("naive_loc_err_m", "median"), naive_src_loc_err_m=("naive_src_loc_err_m", "median"),
        nmf_industry_recall=("nmf_industry_recall", "mean"), fingerprint_industry_recall=("fingerprint_industry_recall", "mean"),
        seconds=("seconds", "median")).reindex(presets)
    print(summary.round(3).to_string())
    if out:
        out.write_text(json.dumps({"runs": res, "summary": summary.reset_index().to_dict(orient="records")}, indent=1))
    return res


def plan(presets: list[str], seeds: int, pollutants: list[str]) -> None:
    """Campaign planner on simulated parks: drives needed for map reliability 0.8, per preset and pollutant."""
    from parkscan.models.mobile.planner import plan_with_simulator

    warnings.simplefilter("ignore")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for preset in presets:
            for seed in range(seeds):
                for pol in pollutants:
                    pl = plan_with_simulator(Path(tmp) / f"{preset}-{seed}", preset=preset, seed=seed, pollutant=pol, n_boot=10)
                    rows.append({"preset": preset, "seed": seed, "pollutant": pol, "drives": pl.drives, "r1": pl.r1, "needed": pl.needed})
                    print(json.dumps(rows[-1]), flush=True)
    df = pd.DataFrame(rows)
    print(df.groupby(["preset", "pollutant"]).agg(drives=("drives", "median"), r1=("r1", "median"), needed=("needed", "median")).round(3).to_string())


def lur(presets: list[str], seeds: int, pollutants: list[str], out: Path | None = None, seed0: int = 0) -> pd.DataFrame:
    """LUR cross-validated R² with and without land-cover features (simulator truth raster), vs mean/IDW, same folds."""
    from parkscan.aoi import read_enterprises, read_park
    from parkscan.models.mobile import analyse
    from parkscan.models.mobile.landcover_features import segment_landcover
    from parkscan.models.mobile.ml import lur_cv, lur_dataset
    from parkscan.sources.mobile import read_mobile
    from parkscan.sources.simulate import simulate

    warnings.simplefilter("ignore")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for preset in presets:
            for seed in range(seed0, seed0 + seeds):
                sc = simulate(Path(tmp) / f"{preset}-{seed}", seed=seed, preset=preset)
                park, ent = read_park(sc.park), read_enterprises(sc.enterprises)
                run = read_mobile(list(sc.mobile), datum=sc.mobile_datum, tz=sc.truth["mobile"].get("timezone"))
                a = analyse(run, crs=park.crs, enterprises=ent)
                t = time.perf_counter()
                lc = segment_landcover(a, Path(tmp) / f"{preset}-{seed}" / "truth" / "landcover_2025.tif")
                t_lc = time.perf_counter() - t
                for pol in pollutants:
                    if pol not in a.pollutants:
                        continue
                    cv = lur_cv(lur_dataset(a, ent, pol, landcover=lc), seed=seed)
                    for r in cv.to_dict("records"):
                        rows.append({"preset": preset, "seed": seed, "pollutant": pol, "lc_seconds": t_lc, **r})
                    piv = cv.pivot(index="scheme", columns="model", values="r2").round(3)
                    print(f"{preset} seed {seed} {pol} (land-cover features {t_lc:.2f} s for {len(lc)} segments)\n{piv.to_string()}", flush=True)
    df = pd.DataFrame(rows)
    summ = df.pivot_table(index=["preset", "pollutant", "scheme"], columns="model", values="r2", aggfunc="mean")
    print("\nmean R² (log concentration) over seeds\n" + summ.round(3).to_string())
    w = df.pivot_table(index=["preset", "seed", "pollutant", "scheme"], columns="model", values="r2")
    for m in ("gbm", "rf"):
        dlt = w[f"{m}+lc"] - w[m]
        print(f"{m}: land cover changes R² by {dlt.mean():+.3f} on average (better in {(dlt > 0.005).sum()}, worse in "
              f"{(dlt < -0.005).sum()}, same in {(dlt.abs() <= 0.005).sum()} of {len(dlt)} runs)")
    if out:
        out.write_text(json.dumps({"runs": rows}, indent=1, default=float))
    return df


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p1 = sub.add_parser("perf")
    p1.add_argument("--points", type=int, default=1_000_000)
    p2 = sub.add_parser("eval")
    p2.add_argument("--seeds", type=int, default=20)
    p2.add_argument("--presets", default="small,typical,hard")
    p2.add_argument("--out", type=Path)
    p2.add_argument("--lag", default="auto", help="auto (estimate) or none")
    p2.add_argument("--seed0", type=int, default=0, help="first seed")
    p3 = sub.add_parser("plan")
    p3.add_argument("--seeds", type=int, default=3)
    p3.add_argument("--presets", default="small,typical,hard")
    p3.add_argument("--pollutants", default="tvoc,so2")
    p4 = sub.add_parser("lur")
    p4.add_argument("--seeds", type=int, default=5)
    p4.add_argument("--presets", default="typical")
    p4.add_argument("--pollutants", default="tvoc,so2")
    p4.add_argument("--seed0", type=int, default=0)
    p4.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    if a.cmd == "lur":
        lur(a.presets.split(","), a.seeds, a.pollutants.split(","), a.out, seed0=a.seed0)
    elif a.cmd == "perf":
        perf(a.points)
    elif a.cmd == "plan":
        plan(a.presets.split(","), a.seeds, a.pollutants.split(","))
    else:
        evaluate(a.presets.split(","), a.seeds, a.out, lag=None if a.lag == "none" else a.lag, seed0=a.seed0)


if __name__ == "__main__":
    main(sys.argv[1:])
