"""``simulate()``: write a complete park scenario (inputs for ``screen()``) with its known truth."""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from rasterio import features

from .fires import simulate_fires
from .imagery import IMAGE_DATES, write_s2_l2a
from .mobile import choose_sources, simulate_mobile
from .presets import PRESETS, get_preset
from .s5p import simulate_no2
from .scene import build_scene
from .thermal import simulate_lst
from .truth import change_features, dump_json, polygon_feature, write_enterprises, write_landcover, write_park

__all__ = ["Scenario", "simulate", "load_scenario", "SCENARIO_FILE", "TRUTH_FILE"]

log = logging.getLogger(__name__)
SCENARIO_FILE, TRUTH_FILE = "scenario.json", "truth.json"
BEFORE_RANGE, AFTER_RANGE = "2023-05-01/2023-07-31", "2025-05-01/2025-07-31"


@dataclass(frozen=True)
class Scenario:
    """A simulated park scenario on disk: the inputs of ``screen()`` and the truth."""

    out_dir: Path
    """Folder holding every file of the scenario."""
    preset: str
    """Preset name (small | typical | hard)."""
    seed: int
    """Random seed (same seed and preset → byte-identical files)."""
    park: Path
    """park.geojson (approved and managed boundaries, sub-parks)."""
    enterprises: Path
    """enterprises.csv (UTF-8 BOM, Chinese headers, WGS-84)."""
    imagery: Path
    """Folder of the two Sentinel-2 L2A-like GeoTIFFs."""
    before: str
    """Date range of the 'before' image (YYYY-MM-DD/YYYY-MM-DD)."""
    after: str
    """Date range of the 'after' image."""
    mobile: tuple[Path, ...]
    """走航 CSV files, one per day."""
    mobile_datum: str
    """Datum of the mobile files' coordinates (wgs84 or gcj02)."""
    no2: tuple[Path, ...]
    """Sentinel-5P L2 NO2-like netCDF files."""
    so2: tuple[Path, ...]
    """Sentinel-5P L2 SO2-like netCDF files (same orbits as ``no2``)."""
    thermal: Path
    """Landsat C2 L2 ST_B10-like GeoTIFF."""
    fires: Path
    """FIRMS VIIRS S-NPP CSV."""
    wind: Mapping[str, float]
    """Campaign-mean wind {"from_deg", "speed_ms"} of the mobile runs."""
    truth_path: Path
    """truth.json."""
    truth: Mapping[str, Any] = field(repr=False, default_factory=dict)
    """The parsed truth record."""

    def inputs(self) -> dict[str, Any]:
        """Keyword arguments for ``parkscan.diagnostics.screen(park, **inputs)`` (absolute paths)."""
        return {"enterprises": self.enterprises, "mobile": list(self.mobile), "imagery": self.imagery,
                "before": self.before, "after": self.after, "no2": list(self.no2), "so2": list(self.so2),
                "thermal": self.thermal, "fires": self.fires, "wind": dict(self.wind)}


def load_scenario(out_dir: str | Path) -> Scenario:
    """Read a scenario written by :func:`simulate` back from ``out_dir/scenario.json``."""
    out = Path(out_dir)
    sc = json.loads((out / SCENARIO_FILE).read_text(encoding="utf-8"))
    truth_path = out / TRUTH_FILE
    truth = json.loads(truth_path.read_text(encoding="utf-8")) if truth_path.exists() else {}
    return Scenario(out_dir=out, preset=sc["preset"], seed=int(sc["seed"]), park=out / sc["park"],
                    enterprises=out / sc["enterprises"], imagery=out / sc["imagery"], before=sc["before"], after=sc["after"],
                    mobile=tuple(out / p for p in sc["mobile"]), mobile_datum=sc["mobile_datum"],
                    no2=tuple(out / p for p in sc["no2"]), so2=tuple(out / p for p in sc.get("so2", [])),
                    thermal=out / sc["thermal"], fires=out / sc["fires"],
                    wind=sc["wind"], truth_path=truth_path, truth=truth)


def _mean_wind(passes: list[dict]) -> dict[str, float]:
    """Point-weighted vector mean of per-pass winds (meteorological 'from' direction)."""
    w = np.array([p["n_points"] for p in passes], float)
    a = np.radians([p["wind_from_deg"] for p in passes])
    s = np.array([p["wind_speed_ms"] for p in passes])
    u, v = np.average(s * np.sin(a), weights=w), np.average(s * np.cos(a), weights=w)
    return {"from_deg": round(float(np.degrees(np.arctan2(u, v)) % 360), 1), "speed_ms": round(float(np.hypot(u, v)), 2)}


def simulate(out_dir: str | Path, *, seed: int = 42, preset: str = "typical") -> Scenario:
    """Simulate a Chinese industrial park scenario with known truth and write it to ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to write into (created if missing; files of an earlier scenario are overwritten).
    seed
        Random seed: the same seed and preset give byte-identical files.
    preset
        ``small`` (fast, easy), ``typical`` or ``hard`` (weaker sources, fewer passes, more noise, GCJ-02 track,
        more clouds).

    Returns
    -------
    Scenario
        Paths of every input and the truth.

    Examples
    --------
    >>> sc = simulate("/tmp/park", seed=1, preset="small")  # doctest: +SKIP
    >>> sc.inputs()["before"]  # doctest: +SKIP
    '2023-05-01/2023-07-31'
    """
    p = get_preset(preset)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ss = np.random.SeedSequence([int(seed), list(PRESETS).index(p.name)])
    r_scene, r_img1, r_img2, r_mob, r_no2, r_lst, r_fire, r_so2 = (np.random.default_rng(s) for s in ss.spawn(8))
    scene = build_scene(r_scene, p)
    write_park(out / "park.geojson", scene)
    write_enterprises(out / "enterprises.csv", scene)

    change_mask = np.zeros(scene.shape, bool)
    if scene.changes:
        change_mask = features.rasterize([(c.polygon, 1) for c in scene.changes], out_shape=scene.shape,
                                         transform=scene.transform, dtype="uint8") == 1
    imgs = {}
    for key, lc, rng in (("before", scene.lc_before, r_img1), ("after", scene.lc_after, r_img2)):
        when = IMAGE_DATES[key]
        name = f"imagery/S2_L2A_{when[:10].replace('-', '')}.tif"
        imgs[key] = write_s2_l2a(out / name, scene, lc, rng, when=when, cloud_cover=p.cloud_cover, avoid=change_mask,
                                 season_shift=0.0 if key == "before" else float(rng.uniform(-0.06, 0.06)),
                                 apparent=scene.apparent_after if key == "after" else None,
                                 radiometric_sd=0.0 if key == "before" else (0.04 if p.name == "hard" else 0.02))
        imgs[key]["file"] = name
        imgs[key].pop("path")
        write_landcover(out / "truth" / f"landcover_{when[:4]}.tif", scene, lc, when[:10])
    log.info("imagery written in %.1f s", time.perf_counter() - t0)

    sources = choose_sources(scene, p, r_mob)
    mobile_files, mobile_truth = simulate_mobile(out, scene, sources, p, r_mob)
    wind = _mean_wind(mobile_truth["passes"])
    combustion = [e for e in scene.enterprises if e.industry in ("热电", "钢铁")]
    share = {"热电": 0.6, "钢铁": 0.4}
    tot = sum(share[e.industry] for e in combustion) or 1.0
    no2_sources = [(e.x, e.y, p.no2_rate_kg_s * share[e.industry] / tot) for e in combustion] or \
        [(scene.x0, scene.y0, p.no2_rate_kg_s)]
    so2_sources = [(x, y, e * p.so2_rate_kg_s / p.no2_rate_kg_s) for x, y, e in no2_sources]
    no2_files, no2_truth, so2_files, so2_truth = simulate_no2(
        out, scene, no2_sources, n_days=p.n_no2_days, noise=p.no2_noise, rng=r_no2,
        low_qa_fraction=0.08 if p.name != "hard" else 0.2, so2_sources=so2_sources,
        so2_noise=1.3e-4 if p.name != "hard" else 1.6e-4, so2_rng=r_so2)
    lst_truth = simulate_lst(out, scene, p, r_lst)
    fire_truth = simulate_fires(out, scene, p, r_fire)

    scenario = {"park": "park.geojson", "enterprises": "enterprises.csv", "mobile": mobile_files,
                "mobile_datum": p.mobile_datum, "imagery": "imagery", "before": BEFORE_RANGE, "after": AFTER_RANGE,
                "no2": no2_files, "so2": so2_files, "thermal": lst_truth["file"], "fires": fire_truth["file"], "wind": wind,
                "preset": p.name, "seed": int(seed)}
    truth = _truth(scene, p, seed, sources, mobile_truth, wind, no2_truth, lst_truth, fire_truth, imgs)
    truth["so2"] = so2_truth
    truth["site_visit_targets"] = _targets(truth)
    dump_json(out / TRUTH_FILE, truth)
    dump_json(out / SCENARIO_FILE, scenario)
    log.info("scenario %s/%s written to %s in %.1f s", p.name, seed, out, time.perf_counter() - t0)
    return load_scenario(out)


def _targets(truth: dict) -> list[dict]:
    """Enterprises a good screening should send inspectors to, with the planted reasons (for ranking evaluation)."""
    reasons: dict[str, list[str]] = {}
    for s in truth["sources"]:
        reasons.setdefault(s["enterprise_id"], []).append("leak: " + ", ".join(s["rates_gs"]))
    for h in truth["thermal"]["hot_roofs"]:
        reasons.setdefault(h["enterprise_id"], []).append(f"hot roof +{h['dT_K']:.1f} K")
    for f in truth["fires"]["persistent"]:
        reasons.setdefault(f["enterprise_id"], []).append(f"persistent heat source ({f['n_dates']} dates)")
    return [{"enterprise_id": k, "reasons": v} for k, v in sorted(reasons.items(), key=lambda kv: (-len(kv[1]), kv[0]))]


def _truth(scene, p, seed, sources, mobile_truth, wind, no2_truth, lst_truth, fire_truth, imgs) -> dict:
    import dataclasses

    approved = scene.approved_union
    ent_by_id = {e.enterprise_id: e for e in scene.enterprises}

    def ll(x, y):
        lon, lat = scene.lonlat(x, y)
        return {"lon": round(float(lon), 7), "lat": round(float(lat), 7)}

    src = [{"enterprise_id": s.enterprise_id, "name": s.name, "industry": s.industry, **ll(s.x, s.y),
            "height_m": s.height_m, "rates_gs": s.rates_gs,
            "distance_to_enterprise_point_m": round(float(np.hypot(s.x - ent_by_id[s.enterprise_id].x,
                                                                   s.y - ent_by_id[s.enterprise_id].y)), 1)}
           for s in sources]
    for d in no2_truth["sources"]:
        d.pop("x"), d.pop("y")
    hot = [{"enterprise_id": h["enterprise_id"], "industry": h["industry"], "dT_K": h["dT_K"], "area_m2": h["area_m2"],
            **ll(h["polygon"].centroid.x, h["polygon"].centroid.y),
            "geometry": polygon_feature(scene, h["polygon"])["geometry"]} for h in lst_truth["hot_roofs"]]
    stacks = [{"enterprise_id": s["enterprise_id"], "dT_K": s["dT_K"], **ll(s["x"], s["y"])} for s in lst_truth["stacks"]]
    outfalls = [{"enterprise_id": s["enterprise_id"], "dT_K": s["dT_K"], **ll(s["x"], s["y"])}
                for s in lst_truth["outfalls"]]
    for f in fire_truth["persistent"] + fire_truth["one_off"]:
        f.pop("x"), f.pop("y")
    return {
        "generator": "parkscan.sources.simulate", "preset": p.name, "seed": int(seed),
        "parameters": dataclasses.asdict(p),
        "park": {"name": scene.name, "crs": f"EPSG:{scene.crs.to_epsg()}", "center": {"lon": scene.lon0, "lat": scene.lat0},
                 "rotation_deg": round(scene.theta_deg, 3), "subparks": [k for k in scene.approved if k != scene.name],
                 "area_ha": {"approved": round(approved.area / 1e4, 3), "managed": round(scene.managed.area / 1e4, 3),
                             "managed_outside_approved": round(scene.managed.difference(approved).area / 1e4, 3),
                             "approved_outside_managed": round(approved.difference(scene.managed).area / 1e4, 3)},
                 "n_enterprises": len(scene.enterprises)},
        "sources": src,
        "changes": change_features(scene),
        "confounders": {"type": "FeatureCollection", "features": [
            polygon_feature(scene, c.polygon, id=c.id, kind=c.kind, land_cover="cropland",
                            area_ha=round(c.polygon.area / 1e4, 4), note="seasonal look-alike, not a land-cover change")
            for c in scene.confounders]},
        "landcover": {"classes": {str(k): v for k, v in __import__("parkscan.sources.simulate.spectra",
                                                                 fromlist=["CLASSES"]).CLASSES.items()},
                      "before": "truth/landcover_2023.tif", "after": "truth/landcover_2025.tif", "resolution_m": 10},
        "imagery": imgs,
        "mobile": {**mobile_truth, "wind_mean": wind},
        "wind": wind,
        "no2": no2_truth,
        "thermal": {"file": lst_truth["file"], "date": lst_truth["date"],
                    "class_temperature_K": lst_truth["class_temperature_K"], "hot_roofs": hot, "stacks": stacks,
                    "outfalls": outfalls},
        "fires": fire_truth,
    }
