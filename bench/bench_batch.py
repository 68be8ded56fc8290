"""Benchmark: parks per minute through `run_batch` with 1 and 2 Dask workers (same parks, same run).

Builds N_SCEN simulated scenarios (parkscan.sources.simulate, preset small) and a PARKS file of
N_PARKS parks that reuse their boundaries and inputs (enterprises, mobile runs, imagery, NO2,
thermal, fires), then screens all of them on a LocalCluster with 1 worker and with 2 workers.
Prints parks/min for each and their ratio. Usage: python bench/bench_batch.py [N_PARKS]
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from parkscan.diagnostics.batch import run_batch
from parkscan.sources.simulate import simulate

N_PARKS = int(sys.argv[1]) if len(sys.argv) > 1 else 50
N_SCEN = 5


def build(tmp: Path) -> Path:
    feats = []
    for s in range(N_SCEN):
        d = tmp / f"scen{s}"
        simulate(d, seed=100 + s, preset="small")
        scen = json.loads((d / "scenario.json").read_text(encoding="utf-8"))
        park = json.loads((d / scen["park"]).read_text(encoding="utf-8"))
        approved = [f for f in park["features"] if f["properties"].get("role", "approved") == "approved"]
        props = {k: f"scen{s}/{scen[k]}" for k in ("enterprises", "imagery", "thermal", "fires") if scen.get(k)}
        for k in ("mobile", "no2"):
            if scen.get(k):
                props[k] = ";".join(f"scen{s}/{v}" for v in scen[k])
        for k in ("before", "after"):
            if scen.get(k):
                props[k] = scen[k]
        for i in range(s, N_PARKS, N_SCEN):
            for f in approved:
                feats.append({"type": "Feature", "geometry": f["geometry"], "properties": {"id": f"B{i:03d}", "name": f"bench park {i}", **props}})
    p = tmp / "parks.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")
    return p


def main() -> None:
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        t0 = time.perf_counter()
        parks = build(tmp)
        print(f"built {N_PARKS} parks from {N_SCEN} simulated scenarios in {time.perf_counter() - t0:.1f} s")
        rates = {}
        for workers in (1, 2):
            res = run_batch(parks, tmp / f"out{workers}", workers=workers)
            assert not res.failed, res.failed
            rates[workers] = len(res.done) / res.seconds * 60
            print(f"{workers} worker(s): {len(res.done)} parks in {res.seconds:.1f} s = {rates[workers]:.1f} parks/min")
        print(f"speed-up 2 vs 1 workers: {rates[2] / rates[1]:.2f}x (2 cores)")


if __name__ == "__main__":
    main()
