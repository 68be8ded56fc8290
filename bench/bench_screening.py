"""Benchmark of the screening: time per stage and how well the site-visit ranking finds the planted emitters.

For a few simulated parks (``parkscan.sources.simulate``) it times simulate / screen / write and compares
the ranking of enterprises against the truth (leaking enterprises, hot roofs/stacks, persistent heat
sources in truth.json):

- ``precision@k`` (k = number of true emitters) and ``recall@10`` of the weighted ranking;
- the same for a naive ranking by the number of findings within the attribution distance (unweighted);
- the expected precision of a random order (k / number of enterprises).

Run: ``.venv/bin/python bench/bench_screening.py [--seeds 1 2 3] [--preset typical]``
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely


def truth_emitters(truth: dict) -> set[str]:
    """Enterprise ids that the scenario made emit (gas, heat)."""
    ids = {s["enterprise_id"] for s in truth.get("sources", []) if s.get("enterprise_id")}
    th = truth.get("thermal", {})
    for key in ("hot_roofs", "stacks"):
        ids |= {s["enterprise_id"] for s in th.get(key, []) if s.get("enterprise_id")}
    ids |= {s["enterprise_id"] for s in truth.get("fires", {}).get("persistent", []) if s.get("enterprise_id")}
    return ids


def naive_order(scr, distance_m: float) -> list[str]:
    """Enterprises ordered by the number of findings within ``distance_m`` (or naming them), ties by id."""
    park = scr.park
    ent = park.enterprises
    x, y = park.lonlat_to_xy(ent["lon"].to_numpy(float), ent["lat"].to_numpy(float))
    pts = shapely.points(x, y)
    ids = [str(i) for i in ent["enterprise_id"]]
    counts = dict.fromkeys(ids, 0)
    for f in scr.findings:
        if f.enterprise_id in counts:
            counts[f.enterprise_id] += 1
            continue
        d = shapely.distance(pts, park.to_local(f.geometry))
        for i in np.flatnonzero(d <= distance_m):
            counts[ids[i]] += 1
    return sorted(ids, key=lambda i: (-counts[i], i))


def scores(order: list[str], truth: set[str], k: int) -> tuple[float, float]:
    return len(set(order[:k]) & truth) / k, len(set(order[:10]) & truth) / max(1, len(truth))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--preset", default="typical")
    args = ap.parse_args()

    from parkscan.aoi import read_park
    from parkscan.diagnostics import screen
    from parkscan.diagnostics.cli.demo import scenario_inputs
    from parkscan.sources.simulate import simulate

    rows = []
    with tempfile.TemporaryDirectory() as td:
        for seed in args.seeds:
            d = Path(td) / f"s{seed}"
            t0 = time.perf_counter()
            simulate(d / "inputs", seed=seed, preset=args.preset)
            t1 = time.perf_counter()
            park_path, inputs, extra = scenario_inputs(d / "inputs")
            scr = screen(read_park(park_path, datum=extra["datum"]), **inputs)
            t2 = time.perf_counter()
            scr.write(d)
            t3 = time.perf_counter()
            truth = truth_emitters(json.loads((d / "inputs" / "truth.json").read_text(encoding="utf-8")))
            k = len(truth)
            ours = [it.item_id for it in scr.ranking if it.item_type == "enterprise"]
            naive = naive_order(scr, scr.weights.attribution_distance_m)
            p_ours, r_ours = scores(ours, truth, k)
            p_naive, r_naive = scores(naive, truth, k)
            rows.append(dict(seed=seed, sim=t1 - t0, screen=t2 - t1, write=t3 - t2, k=k, n=len(ours), p_ours=p_ours,
                             r_ours=r_ours, p_naive=p_naive, r_naive=r_naive, p_random=k / len(ours),
                             findings=len(scr.findings), visits=len(scr.site_visits)))
            r = rows[-1]
            print(f"seed {seed}: simulate {r['sim']:.1f} s, screen {r['screen']:.1f} s, write {r['write']:.1f} s; "
                  f"{r['findings']} findings, {r['visits']} visits; {k} true emitters of {r['n']} enterprises | "
                  f"precision@k weighted {p_ours:.2f} vs naive count {p_naive:.2f} vs random {r['p_random']:.2f}; "
                  f"recall@10 weighted {r_ours:.2f} vs naive {r_naive:.2f}")
    m = {k: float(np.mean([r[k] for r in rows])) for k in ("sim", "screen", "write", "p_ours", "p_naive", "p_random", "r_ours", "r_naive")}
    print(f"mean over {len(rows)} parks ({args.preset}): simulate {m['sim']:.1f} s + screen {m['screen']:.1f} s + write {m['write']:.1f} s; "
          f"precision@k weighted ranking {m['p_ours']:.2f} vs naive finding count {m['p_naive']:.2f} vs random {m['p_random']:.2f}; "
          f"recall@10 {m['r_ours']:.2f} vs {m['r_naive']:.2f}")


if __name__ == "__main__":
    main()
