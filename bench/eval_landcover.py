"""Evaluation of the land-cover models on real and simulated data (figures for docs/readme/landcover.md).

Run: ``.venv/bin/python bench/eval_landcover.py [--skip-slovenia] [--seeds 1 2 3]``

1. Real labels (../shared/data/sentinel2-slovenia-eolearn): 4-fold spatially blocked CV (25-column
   stripes), the naive baseline and each added feature group measured in the same run.
2. Index rules (the no-label fallback) scored on the Slovenia labels and on simulated truth; writes
   ``models/landcover/data/rules_accuracy.json`` (used by the screening for areas ± CI).
3. Simulated parks: new built-up outside the approved boundary found by the screening vs truth.json
   (area error, IoU).
4. Real change (../shared/data/landsat-pucallpa-1985-2020): 1985 → 2020 change map and areas; a figure
   is written to docs/readme/landcover_pucallpa.png.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(Path(__file__).parent))
warnings.filterwarnings("ignore")

from parkscan.models.landcover.accuracy import accuracy_report  # noqa: E402
from parkscan.models.landcover.classes import PARK_CLASSES, map_classes  # noqa: E402
from parkscan.models.landcover.rules import classify_rules  # noqa: E402

CODES = list(range(1, 6))
N_EFF = 100  # effective sample size per map class used for intervals (pixels are spatially autocorrelated)


def rules_on_slovenia(root: Path) -> np.ndarray:
    x = np.load(root / "REFERENCE_SCENES.npy")  # (5, 101, 100, 13)
    idx = {b: i for i, b in enumerate(("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"))}
    bands = ("B02", "B03", "B04", "B08", "B11", "B12")
    cube = np.stack([x[..., idx[b]] for b in bands], axis=1)
    ref = map_classes(np.load(root / "TestEOPatch" / "mask_timeless" / "LULC.npy")[..., 0], "eolearn")
    got = classify_rules(cube, bands)
    ok = (ref > 0) & (got > 0)
    return accuracy_report(ref[ok], got[ok], CODES).matrix  # rows = reference


def simulated(seeds, presets=("small", "typical")) -> tuple[np.ndarray, list[dict]]:
    import geopandas as gpd
    import rioxarray
    from shapely.geometry import shape
    from shapely.ops import unary_union

    from parkscan.aoi import read_park
    from parkscan.diagnostics.landcover import run
    from parkscan.diagnostics.registry import ScreenContext
    from parkscan.models.landcover.analysis import cube_of
    from parkscan.sources.imagery import open_imagery
    from parkscan.sources.simulate import simulate

    total = np.zeros((5, 5), int)
    rows = []
    for preset in presets:
        for seed in seeds:
            with tempfile.TemporaryDirectory() as tmp:
                sc = simulate(Path(tmp) / "s", seed=seed, preset=preset)
                truth = json.loads(Path(sc.truth_path).read_text())
                park = read_park(sc.park)
                ring = truth["parameters"].get("ring_m", 1000.0)
                for per, yr in ((sc.before, "before"), (sc.after, "after")):
                    ds = open_imagery(sc.imagery, park, period=per, ring_m=ring)
                    tif = Path(tmp) / "s" / truth["landcover"][yr]
                    tr = rioxarray.open_rasterio(tif).squeeze(drop=True).rio.reproject_match(ds)
                    ref = map_classes(np.asarray(tr.values), "simulate")
                    got = classify_rules(*cube_of(ds))
                    ok = (ref > 0) & (got > 0)
                    total += accuracy_report(ref[ok], got[ok], CODES).matrix
                res = run(park, ScreenContext(params={"ring_m": ring}), imagery=str(sc.imagery), before=sc.before, after=sc.after)
                found = [f for f in res.findings if f.kind == "built_up_outside_approved"]
                tru = [ft for ft in truth["changes"]["features"]
                       if ft["properties"]["to"] == "built" and not ft["properties"]["inside_approved"]]
                tg = unary_union([park.to_local(shape(f["geometry"])) for f in tru]) if tru else None
                fg = unary_union([park.to_local(f.geometry) for f in found]) if found else None
                t_ha = tg.area / 1e4 if tg is not None else 0.0
                f_ha = fg.area / 1e4 if fg is not None else 0.0
                inter = tg.intersection(fg).area / 1e4 if (tg is not None and fg is not None) else 0.0
                union = (tg.union(fg).area / 1e4) if (tg is not None and fg is not None) else max(t_ha, f_ha)
                ci = sum((f.evidence.get("ci95_ha") or 0) for f in found)
                adj = sum((f.evidence.get("area_adjusted_ha") or f.evidence["area_ha"]) for f in found)
                managed_ok = all(
                    any(f.evidence["inside_managed"] == t["properties"]["inside_managed"]
                        and park.to_local(f.geometry).intersects(park.to_local(shape(t["geometry"]))) for f in found)
                    for t in tru)
                rows.append({"preset": preset, "seed": seed, "true_ha": round(t_ha, 2), "found_ha": round(f_ha, 2),
                             "adjusted_ha": round(adj, 2), "ci95_ha_sum": round(ci, 2), "iou": round(inter / union, 3) if union else 1.0,
                             "n_true": len(tru), "n_found": len(found), "managed_flag_correct": managed_ok})
                print(f"  {preset:<8} seed {seed}: true {t_ha:5.2f} ha, found {f_ha:5.2f} ha (adjusted {adj:5.2f} ± {ci:4.2f}), "
                      f"IoU {rows[-1]['iou']:.2f}, patches {len(found)}/{len(tru)}, managed flag ok: {managed_ok}", flush=True)
    return total, rows


def combine(slo: np.ndarray, sim: np.ndarray) -> dict:
    """Rows = map class: the real (Slovenia) row where it has ≥ 50 pixels, else the simulated row; each row scaled to N_EFF."""
    slo_map, sim_map = slo.T.astype(float), sim.T.astype(float)  # → rows = map
    rows, src = [], []
    for i in range(5):
        r = slo_map[i] if slo_map[i].sum() >= 50 else sim_map[i]
        src.append("slovenia" if slo_map[i].sum() >= 50 else "simulated")
        rows.append(r / r.sum() * N_EFF if r.sum() else r)
    m = np.array(rows).T  # back to rows = reference
    return {"classes": list(PARK_CLASSES), "matrix_rows_reference": np.round(m, 3).tolist(), "row_source": src,
            "source": (f"the index rules scored on real Sentinel-2 labels (Slovenia, eo-learn) for "
                       f"{', '.join(c for c, s in zip(PARK_CLASSES, src) if s == 'slovenia')} and on simulated scenes for the "
                       f"other classes, {N_EFF} effective samples per class")}


def pucallpa(root: Path, out_png: Path) -> dict:
    from shapely.geometry import box

    from parkscan.aoi.park import Park
    from parkscan.models.landcover.analysis import cube_of
    from parkscan.models.landcover.change import detect_change
    from parkscan.models.landcover.indices import ndbi, ndvi
    from parkscan.sources.imagery import open_imagery

    park = Park(id="pucallpa", name="Pucallpa", approved=box(-74.62, -8.45, -74.48, -8.33))
    names = ("SWIR1", "NIR", "Red", "Green")
    ds = {y: open_imagery(root / f"{y}.tif", park, band_names=names, ring_m=3000, resolution=90) for y in (1985, 2020)}
    maps = {y: classify_rules(*cube_of(d)) for y, d in ds.items()}
    idx = {y: {"NDVI": ndvi({b: d[b].values[0] for b in d.data_vars}), "NDBI": ndbi({b: d[b].values[0] for b in d.data_vars})}
           for y, d in ds.items()}
    t, crs = ds[2020].rio.transform(), ds[2020].rio.crs
    ch = detect_change(maps[1985], maps[2020], idx[1985], idx[2020], t, crs, mmu_ha=2.0)
    g = ch.polygons
    px_ha = abs(t.a * t.e) / 1e4
    res = {"thresholds": ch.thresholds, "mmu_px": ch.mmu_pixels,
           "built_up_ha": {y: float((m == 1).sum() * px_ha) for y, m in maps.items()},
           "vegetation_ha": {y: float((m == 3).sum() * px_ha) for y, m in maps.items()},
           "transitions_ha": {f"{a}->{b}": round(float(s), 1) for (a, b), s in g.groupby(["from", "to"])["area_ha"].sum().items()}}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def rgb(d):
        a = np.stack([d["B11"].values[0], d["B08"].values[0], d["B04"].values[0]], -1)
        return np.clip(np.nan_to_num(a), 0, 1)

    fig, ax = plt.subplots(1, 3, figsize=(15, 5.2))
    ax[0].imshow(rgb(ds[1985])); ax[0].set_title("Landsat 1985 (SWIR1/NIR/Red)")
    ax[1].imshow(rgb(ds[2020])); ax[1].set_title("Landsat 2020")
    to = np.where(ch.codes > 0, ch.codes % 10, 0)
    from matplotlib.colors import ListedColormap
    cmap = ListedColormap(["#ffffff", "#d7191c", "#fdae61", "#1a9641", "#2b83ba", "#a6761d"])
    ax[2].imshow(to, cmap=cmap, vmin=0, vmax=5, interpolation="nearest")
    ax[2].set_title("change 1985→2020 (colour = new class)\nred built-up, orange cropland, brown bare")
    for a in ax:
        a.set_axis_off()
    fig.tight_layout()
    fig.savefig(out_png, dpi=70)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-slovenia", action="store_true")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--only-slovenia", nargs="*", default=None, help="run only Slovenia recipes whose name contains one of these")
    a = ap.parse_args()
    out = {}
    slo_root = SHARED / "sentinel2-slovenia-eolearn"
    if not a.skip_slovenia:
        import _lc_slovenia

        print("1. Slovenia, 4-fold blocked CV (25-column stripes), random forest 200 trees:", flush=True)
        out["slovenia_cv"] = _lc_slovenia.run(slo_root, only=tuple(a.only_slovenia or ()))
        if a.only_slovenia is not None:
            return
    print("2. index rules on real labels and simulated truth", flush=True)
    slo = rules_on_slovenia(slo_root)
    r = accuracy_report(np.repeat(np.arange(1, 6), slo.sum(1)), np.concatenate([np.repeat(np.arange(1, 6), row) for row in slo]), CODES)
    print(f"  Slovenia (built-up/vegetation/cropland): OA {r.oa:.3f}, F1 {dict(zip(PARK_CLASSES, np.round(r.f1, 2)))}")
    print("3. simulated parks: built-up outside the approved boundary vs truth", flush=True)
    sim, rows = simulated(a.seeds)
    rs = accuracy_report(np.repeat(np.arange(1, 6), sim.sum(1)), np.concatenate([np.repeat(np.arange(1, 6), row) for row in sim]), CODES)
    print(f"  rules on simulated truth: OA {rs.oa:.3f}, F1 {dict(zip(PARK_CLASSES, np.round(rs.f1, 2)))}")
    err = [abs(x["found_ha"] - x["true_ha"]) / x["true_ha"] for x in rows if x["true_ha"]]
    print(f"  mean |area error| {np.mean(err):.1%}, mean IoU {np.mean([x['iou'] for x in rows]):.2f}")
    acc = {"slovenia_rows_reference": slo.tolist(), "simulated_rows_reference": sim.tolist(), "combined": combine(slo, sim),
           "slovenia_oa": r.oa, "simulated_oa": rs.oa, "generated_by": "bench/eval_landcover.py"}
    dest = ROOT / "models" / "landcover" / "data" / "rules_accuracy.json"
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(json.dumps(acc, indent=1))
    out.update(rules_simulated=rows, rules_accuracy=str(dest))
    print("4. Pucallpa 1985 → 2020 (Landsat, stretched 8-bit, rules + Otsu-confirmed change, MMU 2 ha)", flush=True)
    out["pucallpa"] = pucallpa(SHARED / "landsat-pucallpa-1985-2020", ROOT / "docs" / "readme" / "landcover_pucallpa.png")
    print(json.dumps(out["pucallpa"], indent=1))
    (Path(tempfile.gettempdir()) / "eval_landcover.json").write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
