"""The built-in ``satellite`` diagnostic: NO2/SO2 enhancement, thermal anomalies, persistent heat sources.

Inputs (``screen()`` keywords): ``no2`` / ``so2`` (lists of S5P L2 files or folders), ``thermal``
(an LST GeoTIFF), ``fires`` (a FIRMS CSV), ``wind`` (``{"from_deg", "speed_ms"}``, optional; else
the ``wind`` of a simulated scenario's ``scenario.json`` next to the inputs, else no flux estimate) and ``reference``
(a WRI GPPD power-plant CSV, optional). ``ctx.params`` may hold ``no2_res_m`` (1000), ``no2_ring_m``
(15000), ``no2_method`` (polygon | gaussian), ``thermal_res_m`` (30), ``thermal_classes`` (class GeoTIFF),
``fires_period`` ((start, end)).
"""
from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from shapely.geometry import Point, mapping

from parkscan.aoi.errors import NotDetectableWarning, ParkscanError, SourceIOError
from parkscan.maps.layers import RasterLayer, VectorLayer
from parkscan.models.satellite.fires import HeatSourceParams, cluster_detections
from parkscan.models.satellite.flux import flux_divergence, source_location
from parkscan.models.satellite.grids import to_wgs84
from parkscan.models.satellite.no2 import cell_masks, oversample, park_enhancement, remove_daily_background
from parkscan.models.satellite.thermal import join_enterprises, thermal_anomalies
from parkscan.sources.readers.firms import read_firms
from parkscan.sources.readers.gppd import GPPD_ATTRIBUTION, plants_near_park, read_gppd
from parkscan.sources.readers.lst import read_landsat_ndvi, read_lst
from parkscan.sources.readers.s5p import read_s5p, read_s5p_metadata

from .findings import Finding, finding_id
from .manifest import input_item
from .registry import DiagnosticResult, register

__all__ = ["run", "expand_s5p"]

log = logging.getLogger(__name__)
UMOL = 1e6  # mol m-2 → µmol m-2


def expand_s5p(paths: Iterable[Any] | None) -> list[Path]:
    """Files from a list of S5P files and/or folders (``*.nc`` inside, sorted)."""
    out: list[Path] = []
    for p in paths or ():
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*.nc")))
        else:
            out.append(p)
    return out


def _scenario_wind(files: Sequence[Path]) -> dict | None:
    """The ``wind`` input of a simulated scenario's ``scenario.json`` next to the inputs (never its truth.json)."""
    for f in files[:1]:
        for d in (f.parent, f.parent.parent, f.parent.parent.parent):
            t = d / "scenario.json"
            if t.is_file():
                try:
                    data = json.loads(t.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    return None
                w = data.get("wind") if isinstance(data, Mapping) else None
                if isinstance(w, Mapping) and "from_deg" in w and "speed_ms" in w:
                    return {"from_deg": float(w["from_deg"]), "speed_ms": float(w["speed_ms"])}
    return None


def _rgba(arr: np.ndarray, cmap: str, vmin: float, vmax: float, alpha: np.ndarray | float = 0.85) -> np.ndarray:
    import matplotlib

    cm = matplotlib.colormaps[cmap]
    norm = np.clip((arr - vmin) / (vmax - vmin if vmax > vmin else 1.0), 0, 1)
    img = (cm(np.nan_to_num(norm)) * 255).astype(np.uint8)
    a = np.broadcast_to(np.asarray(alpha, float), arr.shape)
    img[..., 3] = np.where(np.isfinite(arr), (a * 255).astype(np.uint8), 0)
    return img


def _hex(cmap: str, f: float) -> str:
    import matplotlib

    r, g, b, _ = matplotlib.colormaps[cmap](f)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def _years_label(years: Iterable[int]) -> str:
    ys = sorted({int(y) for y in years if y and y > 0})
    if not ys:
        return ""
    return str(ys[0]) if len(ys) == 1 else f"{ys[0]}–{ys[-1]}"


def _fc(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def _clean(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        return None if not np.isfinite(v) else round(float(v), 6)
    if isinstance(v, np.integer):
        return int(v)
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    return v


# --------------------------------------------------------------------------------------------- NO2 / SO2
def _column_part(park, ctx, files: list[Path], product: str, wind: dict | None, wind_src: str, plants: pd.DataFrame | None,
                 res: DiagnosticResult, errors: list[str]) -> set[int]:
    p = ctx.params
    ring_m = float(p.get("no2_ring_m", 15000.0))
    grid = park.grid(float(p.get("no2_res_m", 1000.0)), ring_m=ring_m + 5000.0)
    masks = cell_masks(park, grid, ring_m=ring_m)
    pix, years, dates = [], set(), []
    for i, f in enumerate(files):
        ctx.report(f"{product}: reading {f.name}", i / max(len(files), 1) * 0.5)
        try:
            meta = read_s5p_metadata(f)
            if meta.product != product:
                continue
            ds = read_s5p(f, park=park, ring_m=ring_m + 5000.0)
        except SourceIOError as err:
            errors.append(str(err))
            continue
        res.inputs.append(input_item(f, kind=product.lower(), id=f"s5p-{product.lower()}-{ds.attrs['orbit']}",
                                     dates=(ds.attrs["date"],), extra={"orbit": ds.attrs["orbit"], "pixels_kept": ds.attrs["n_kept"],
                                                                       "pixels_rejected_qa": ds.attrs["n_rejected_qa"]}))
        years.add(ds.attrs["year"])
        dates.append(ds.attrs["date"])
        pix.append(ds)
    key = product.lower() + "_enhancement"
    if not pix:
        res.indicators[key] = {"value": None, "unit": "µmol/m²"}
        return years
    pix = remove_daily_background(pix, park, ring_m=ring_m)
    if not pix:
        res.indicators[key] = {"value": None, "unit": "µmol/m²"}
        res.limitations.append({"en": f"{product}: no orbit had enough quality-filtered pixels in the ring to set its background.",
                                "zh": f"{product}：没有轨道在环带内有足够的合格像元来确定背景。"})
        return years
    bg_mean = float(np.mean([d.attrs["background"] for d in pix]))
    ov = oversample(pix, grid, masks=masks, method=str(p.get("no2_method", "polygon")))
    enh = park_enhancement(ov, masks, seed=ctx.seed)
    src_ids = tuple(i.id for i in res.inputs if i.kind == product.lower())
    flux = None
    if ov.has_wind:  # per-pixel winds at overpass time from the files beat one mean wind
        wind, wind_src = None, "S5P INPUT_DATA eastward/northward_wind (per pixel, per day)"
    if (wind is not None or ov.has_wind) and np.isfinite(enh.ring_mean):
        flux = flux_divergence(ov, park, wind=wind, background=0.0, seed=ctx.seed)
    d_u, se_u = enh.delta * UMOL, enh.se * UMOL
    if not np.isfinite(enh.delta):
        res.indicators[key] = {"value": None, "unit": "µmol/m²"}
        res.limitations.append({"en": f"{product}: no quality-filtered pixels over both the park and its ring.",
                                "zh": f"{product}：园区及周边环带内没有足够的合格像元。"})
    elif enh.detectable:
        res.indicators[key] = {"value": f"{d_u:.1f} ± {se_u:.1f}", "unit": "µmol/m²"}
    else:
        res.indicators[key] = {"value": f"not detectable (< {max(enh.upper_limit, 2 * enh.se) * UMOL:.1f})", "unit": "µmol/m²"}
        warnings.warn(f"{product} park enhancement {d_u:.1f} ± {se_u:.1f} µmol/m² is not detectable (z = {enh.z:.1f})",
                      NotDetectableWarning, stacklevel=2)
    res.indicators[f"{key}_umol_m2"] = {"value": _clean(d_u), "unit": "µmol/m²",
                                        "label": {"en": f"{product} park − ring", "zh": f"{product} 园区−环带"}}
    res.indicators[f"{key}_se_umol_m2"] = {"value": _clean(se_u), "unit": "µmol/m²",
                                           "label": {"en": f"{product} enhancement standard error", "zh": f"{product} 增强标准误差"}}
    res.indicators[f"{product.lower()}_days"] = {"value": enh.n_days, "unit": "days",
                                                 "label": {"en": f"{product} days with valid pixels", "zh": f"{product} 有效观测天数"}}
    if flux is not None:
        lim = flux.detection_limit_kg_s
        val = (f"{flux.emission_kg_s:.3f} ± {flux.se_kg_s:.3f}" if flux.status != "not_detectable"
               else f"not detectable (< {max(lim[0], flux.emission_kg_s + 2 * flux.se_kg_s):.3f})")
        res.indicators[f"{product.lower()}_emission"] = {
            "value": val, "unit": "kg/s",
            "label": {"en": f"{'NOx' if product == 'NO2' else 'SO2'} emission (flux divergence)", "zh": f"{'NOx' if product == 'NO2' else 'SO2'} 排放（通量散度法）"}}
    # map layer: oversampled column
    img, bounds = to_wgs84(ov.mean * UMOL, grid)
    fin = img[np.isfinite(img)]
    if fin.size:
        lo, hi = np.quantile(fin, [0.02, 0.98])
        res.layers.append(RasterLayer(name=f"{product} above the daily background (TROPOMI, µmol/m²)" if ctx.lang != "zh" else f"{product} 相对逐日背景（TROPOMI，µmol/m²）",
                                      image=_rgba(img, "YlOrRd", lo, hi, 0.7), bounds=bounds, opacity=0.7,
                                      legend={f"{lo:.0f}": _hex("YlOrRd", 0.0), f"{(lo + hi) / 2:.0f}": _hex("YlOrRd", 0.5), f"{hi:.0f}": _hex("YlOrRd", 1.0)},
                                      time=f"{min(dates)}/{max(dates)}" if dates else None))
    # table: per-day park and ring means
    rows = []
    day_bg: dict[str, list[float]] = {}
    for dsb in pix:
        day_bg.setdefault(dsb.attrs["date"], []).append(dsb.attrs["background"])
    for k, d in enumerate(ov.days):
        pn, pdn = ov.day_num[k][masks["park"]].sum(), ov.day_den[k][masks["park"]].sum()
        rn, rdn = ov.day_num[k][masks["ring"]].sum(), ov.day_den[k][masks["ring"]].sum()
        rows.append({"date": d, "background_umol_m2": float(np.mean(day_bg[d])) * UMOL if d in day_bg else None,
                     "park_above_background_umol_m2": pn / pdn * UMOL if pdn else None,
                     "ring_above_background_umol_m2": rn / rdn * UMOL if rdn else None})
    res.tables[f"satellite_{product.lower()}_days"] = pd.DataFrame(rows)
    if not enh.detectable:
        return years
    sx, sy, how = source_location(ov, park, wind=wind, use_wind=flux is not None)
    plon, plat = park.xy_to_lonlat(sx, sy)
    ids, dist = join_enterprises(np.array([sx]), np.array([sy]), park, max_m=3000.0)
    ev: dict[str, Any] = {
        "product": product, "park_mean_umol_m2": _clean((bg_mean + enh.park_mean) * UMOL),
        "ring_mean_umol_m2": _clean((bg_mean + enh.ring_mean) * UMOL), "daily_background_mean_umol_m2": _clean(bg_mean * UMOL),
        "enhancement_umol_m2": _clean(d_u), "enhancement_se_umol_m2": _clean(se_u), "z": _clean(enh.z),
        "se_precision_umol_m2": _clean(enh.se_precision * UMOL), "se_bootstrap_days_umol_m2": _clean(enh.se_bootstrap * UMOL),
        "n_days": enh.n_days, "n_pixels": enh.n_pixels, "period": f"{enh.days[0]}/{enh.days[-1]}" if enh.days else None,
        "ring_m": ring_m, "grid_m": grid.res, "peak_lon": round(float(plon), 6), "peak_lat": round(float(plat), 6),
        "peak_from": how, "location_uncertainty_km": "1–2 (TROPOMI pixels 3.5–5.5 km: park-level)", "nearest_enterprise": ids[0], "nearest_enterprise_m": _clean(dist[0]) if len(dist) else None,
    }
    if flux is not None:
        ev.update({"emission_kg_s": _clean(flux.emission_kg_s), "emission_se_kg_s": _clean(flux.se_kg_s),
                   "emission_status": flux.status, "detection_limit_kg_s": list(flux.detection_limit_kg_s),
                   "wind_u_ms": round(flux.wind[0], 2), "wind_v_ms": round(flux.wind[1], 2), "wind_source": wind_src,
                   "lifetime_h": flux.lifetime_h})
    if plants is not None and len(plants):
        ev["known_plants_within_10km"] = [f"{r_.name} ({r_.fuel}, {r_.capacity_mw:g} MW, {r_.distance_m / 1000:.1f} km)" for r_ in plants.itertuples()][:5]
    conf = float(np.clip(0.5 + 0.08 * (enh.z - 2.0), 0.5, 0.95)) * (0.8 if enh.n_days < 10 else 1.0)
    sev = float(np.clip(d_u / 30.0, 0.2, 1.0))
    flux_txt_en = flux_txt_zh = ""
    if flux is not None:
        if flux.status == "not_detectable":
            flux_txt_en, flux_txt_zh = "; the flux-divergence emission is below its detection limit", "；通量散度法排放低于检出限"
        else:
            flux_txt_en = f"; emission ≈ {flux.emission_kg_s:.2f} ± {flux.se_kg_s:.2f} kg/s"
            flux_txt_zh = f"；排放约 {flux.emission_kg_s:.2f} ± {flux.se_kg_s:.2f} kg/s"
    res.findings.append(Finding(
        id=finding_id(key, park.id, product), kind=key, severity=sev, confidence=conf, geometry=Point(float(plon), float(plat)),
        enterprise_id=None, evidence=ev, sources=src_ids,
        explain={"en": f"TROPOMI {product} over the park is {d_u:.1f} ± {se_u:.1f} µmol/m² above the {ring_m / 1000:.0f} km ring "
                       f"({enh.n_days} days){flux_txt_en}.",
                 "zh": f"TROPOMI {product} 园区均值比周边 {ring_m / 1000:.0f} km 环带高 {d_u:.1f} ± {se_u:.1f} µmol/m²（{enh.n_days} 天）{flux_txt_zh}。"}))
    return years


# --------------------------------------------------------------------------------------------- thermal
def _thermal_part(park, ctx, path: Path, res: DiagnosticResult) -> None:
    p = ctx.params
    grid = park.grid(float(p.get("thermal_res_m", 30.0)), ring_m=float(p.get("thermal_ring_m", 1500.0)))
    lst = read_lst(path, grid)
    classes = None
    if p.get("thermal_classes"):
        import rasterio
        from rasterio.warp import Resampling, reproject

        with rasterio.open(p["thermal_classes"]) as src:
            classes = np.full(grid.shape, -1, dtype="int32")
            reproject(source=src.read(1).astype("int32"), destination=classes, src_transform=src.transform, src_crs=src.crs,
                      dst_transform=grid.transform, dst_crs=grid.crs.to_wkt(), resampling=Resampling.nearest, dst_nodata=-1)
    ndvi = read_landsat_ndvi(path, grid) if classes is None else None
    tr = thermal_anomalies(lst, park, classes=classes, class_names=p.get("thermal_class_names"), ndvi=ndvi)
    item = input_item(path, kind="thermal", id="thermal", dates=(lst.attrs["date"],) if lst.attrs["date"] else (),
                      extra={"kind": lst.attrs["kind"], "cloud_masked_pixels": lst.attrs["n_cloud_masked"]})
    res.inputs.append(item)
    cloud = lst.attrs["n_cloud_masked"] / float(lst.size)
    res.coverage["cloud"] = round(cloud, 4)
    valid = float(np.isfinite(lst.values).mean())
    if cloud > 0.2 or valid < 0.8:
        res.limitations.append({"en": f"Thermal: only {valid:.0%} of the park area has a usable surface temperature "
                                      f"({cloud:.0%} masked as cloud/shadow); anomalies under clouds cannot be seen.",
                                "zh": f"热红外：园区仅 {valid:.0%} 的面积有可用地表温度（{cloud:.0%} 被云/阴影掩膜），云下热异常无法识别。"})
    df = tr.anomalies
    res.tables["satellite_thermal_anomalies"] = df.drop(columns=["x", "y"])
    res.indicators["thermal_anomalies"] = {"value": int(len(df)), "unit": "", "label": {"en": "Thermal anomalies", "zh": "热异常数"}}
    for a in df.itertuples():
        eid = None if pd.isna(a.enterprise_id) else str(a.enterprise_id)
        res.findings.append(Finding(
            id=finding_id("thermal_anomaly", park.id, round(a.lon, 5), round(a.lat, 5)), kind="thermal_anomaly",
            severity=float(np.clip(a.delta_max_k / 15.0, 0.2, 1.0)),
            confidence=float(np.clip(0.45 + 0.04 * (a.z_max - 3.5) + (0.1 if a.n_pixels >= 4 else 0.0), 0.3, 0.9)) * (1.0 if a.inside_park else 0.9),
            geometry=Point(a.lon, a.lat), enterprise_id=eid, sources=(item.id,),
            evidence={"lst_max_k": round(a.lst_max_k, 2), "excess_max_k": round(a.delta_max_k, 2), "excess_mean_k": round(a.delta_mean_k, 2),
                      "robust_z_max": round(a.z_max, 2), "area_m2": a.area_m2, "n_pixels": a.n_pixels, "anomaly_kind": a.kind,
                      "stratum": a.stratum, "strata_source": tr.strata_source, "date": lst.attrs["date"] or None,
                      "enterprise_distance_m": _clean(a.enterprise_distance_m)},
            explain={"en": f"{a.kind.capitalize()} {a.delta_max_k:.1f} K above its land-cover-matched surroundings (robust z {a.z_max:.1f}, {a.area_m2:.0f} m²).",
                     "zh": f"{ {'roof': '屋顶', 'stack': '烟囱', 'outfall': '排水口'}[a.kind]}比同类地表周边高 {a.delta_max_k:.1f} K（稳健 z={a.z_max:.1f}，{a.area_m2:.0f} m²）。"}))
    img, bounds = to_wgs84(tr.delta, grid, resampling="nearest")
    alpha = np.clip(np.abs(np.nan_to_num(img)) / 4.0, 0.15, 0.9)
    res.layers.append(RasterLayer(name="LST anomaly (K)" if ctx.lang != "zh" else "地表温度异常（K）", image=_rgba(img, "RdBu_r", -8.0, 8.0, alpha),
                                  bounds=bounds, opacity=0.8, time=lst.attrs["date"] or None,
                                  legend={"−8 K": _hex("RdBu_r", 0.0), "0 K": _hex("RdBu_r", 0.5), "+8 K": _hex("RdBu_r", 1.0)}))


# --------------------------------------------------------------------------------------------- fires
def _fires_part(park, ctx, path: Path, res: DiagnosticResult, plants: pd.DataFrame | None) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = read_firms(path)
    n_flag = int((~df["valid"]).sum())
    period = ctx.params.get("fires_period")
    clusters, det = cluster_detections(df, park, params=HeatSourceParams(ring_m=float(ctx.params.get("fires_ring_m", 3000.0))), period=period)
    dates = sorted(df.loc[df["valid"], "date"].unique())
    sensor = df.attrs.get("sensor") or "VIIRS"
    item = input_item(path, kind="fires", id="fires", dates=(f"{dates[0]}/{dates[-1]}",) if dates else (),
                      extra={"sensor": sensor, "rows": int(len(df)), "rows_flagged": n_flag})
    res.inputs.append(item)
    if not dates:
        res.limitations.append({"en": "FIRMS: the file has no valid detections, so its observation period is unknown; "
                                      "0 heat sources means none were detected, not that none exist.",
                                "zh": "FIRMS：文件中没有有效火点，观测时段未知；热源数为 0 仅表示未探测到。"})
    if n_flag:
        res.limitations.append({"en": f"FIRMS: {n_flag} rows flagged and not used ({caught[0].message if caught else ''}).",
                                "zh": f"FIRMS：{n_flag} 行数据被标记且未使用。"})
    ids, dist = join_enterprises(clusters["x"].to_numpy(float), clusters["y"].to_numpy(float), park, max_m=750.0)
    clusters = clusters.assign(enterprise_id=ids, enterprise_distance_m=dist)
    if plants is not None and len(plants) and len(clusters):
        px, py = park.lonlat_to_xy(plants["lon"].to_numpy(), plants["lat"].to_numpy())
        dd = np.hypot(clusters["x"].to_numpy(float)[:, None] - px[None], clusters["y"].to_numpy(float)[:, None] - py[None])
        k = dd.argmin(1)
        clusters["known_plant"] = [plants["name"].iloc[j] if dd[i, j] <= 1500 else None for i, j in enumerate(k)]
    pers = clusters[clusters["cls"] == "persistent"]
    res.tables["satellite_heat_sources"] = clusters.drop(columns=["x", "y"])
    res.indicators["heat_sources"] = {"value": int(len(pers)), "unit": ""}
    res.indicators["heat_source_persistence_max"] = {
        "value": _clean(float(pers["persistence"].max())) if len(pers) else None, "unit": "",
        "label": {"en": "Highest heat-source persistence (dates with detections / days observed)", "zh": "热源最高持续率（有火点日数/观测日数）"}}
    res.indicators["fire_clusters_transient"] = {"value": int((clusters["cls"] != "persistent").sum()), "unit": "",
                                                 "label": {"en": "One-off / vegetation fire clusters", "zh": "一次性/植被火点簇"}}
    for c in pers.itertuples():
        eid = None if c.enterprise_id is None or pd.isna(c.enterprise_id) else str(c.enterprise_id)
        ev = {"n_detections": c.n_detections, "n_dates": c.n_dates, "span_days": c.span_days, "persistence": round(c.persistence, 4),
              "first_date": c.first_date, "last_date": c.last_date, "frp_mean_mw": round(c.frp_mean, 2), "frp_median_mw": round(c.frp_median, 2),
              "frp_max_mw": round(c.frp_max, 2), "frp_sum_mw": round(c.frp_sum, 2), "night_fraction": _clean(c.night_fraction),
              "radius_m": round(c.radius_m, 1), "firms_type": _clean(c.type_majority), "sensor": sensor,
              "inside_park": bool(c.inside_park), "enterprise_distance_m": _clean(c.enterprise_distance_m)}
        if "known_plant" in clusters and getattr(c, "known_plant", None):
            ev["known_plant"] = c.known_plant
        res.findings.append(Finding(
            id=finding_id("heat_source", park.id, round(c.lon, 4), round(c.lat, 4)), kind="heat_source",
            severity=float(np.clip(0.3 + 0.4 * min(1.0, c.persistence / 0.2) + 0.3 * min(1.0, c.frp_mean / 50.0), 0.0, 1.0)),
            confidence=float(np.clip(0.5 + 0.05 * c.n_dates, 0.5, 0.95)) * (1.0 if c.inside_park else 0.85),
            geometry=Point(c.lon, c.lat), enterprise_id=eid, evidence=ev, sources=(item.id,),
            explain={"en": f"{sensor} detected heat here on {c.n_dates} of {c.span_days} days (mean FRP {c.frp_mean:.1f} MW): a persistent, likely industrial source.",
                     "zh": f"{sensor} 在 {c.span_days} 天中有 {c.n_dates} 天在此探测到热点（平均 FRP {c.frp_mean:.1f} MW），为持续性、可能为工业的热源。"}))
    feats = [{"type": "Feature", "geometry": mapping(Point(c.lon, c.lat)),
              "properties": {k: _clean(getattr(c, k)) for k in ("cluster_id", "cls", "n_detections", "n_dates", "persistence", "frp_mean", "frp_max",
                                                                "first_date", "last_date", "enterprise_id")}}
             for c in clusters.itertuples()]
    zh = ctx.lang == "zh"
    res.layers.append(VectorLayer(name="持续热源（FIRMS）" if zh else "Heat sources (FIRMS)", features=_fc(feats), kind="heat_sources", color_by="cls",
                                  popup_fields=(("cls", "类别" if zh else "Class"), ("n_dates", "天数" if zh else "Dates"),
                                                ("persistence", "持续率" if zh else "Persistence"), ("frp_mean", "平均 FRP (MW)" if zh else "Mean FRP (MW)"),
                                                ("enterprise_id", "企业" if zh else "Enterprise")),
                                  legend={("持续" if zh else "persistent"): "#d7301f", ("一次性" if zh else "transient"): "#fdae6b",
                                          ("植被火" if zh else "vegetation"): "#31a354"}))


def _plants_layer(plants: pd.DataFrame, lang: str) -> VectorLayer:
    feats = [{"type": "Feature", "geometry": mapping(Point(r.lon, r.lat)),
              "properties": {"name": r.name, "fuel": r.fuel, "capacity_mw": _clean(r.capacity_mw), "distance_km": round(r.distance_m / 1000, 2)}}
             for r in plants.itertuples()]
    zh = lang == "zh"
    return VectorLayer(name="电厂（WRI GPPD）" if zh else "Power plants (WRI GPPD)", features=_fc(feats), kind="generic", color_by="fuel", show=False,
                       popup_fields=(("name", "名称" if zh else "Name"), ("fuel", "燃料" if zh else "Fuel"), ("capacity_mw", "装机 (MW)" if zh else "Capacity (MW)"),
                                     ("distance_km", "距园区 (km)" if zh else "Distance (km)")))


# --------------------------------------------------------------------------------------------- the plugin
_METHODS = {
    "en": ("NO2/SO2: Sentinel-5P TROPOMI L2 pixels with qa_value above the Product User Manual threshold (0.75 NO2, 0.5 SO2) are "
           "oversampled onto a 1 km park grid by footprint-area weighting with 1/precision² weights (Sun et al. 2018) and averaged "
           "over the period; the park enhancement is the park mean minus the mean of a 15 km ring, with the larger of the "
           "precision-propagated and the bootstrap-over-days standard error; with a wind, the emission is estimated by flux "
           "divergence (Beirle et al. 2019). Thermal: Landsat C2 L2 surface temperature (or an LST GeoTIFF) compared with a "
           "land-cover-matched local background (robust z with median/MAD in 1.5 km windows); hot clusters are joined to the nearest "
           "enterprise. Heat sources: FIRMS active-fire detections clustered with DBSCAN in metres; persistence = distinct dates over "
           "the observed span; persistent compact clusters (or FIRMS type 2) are heat sources, the rest are kept apart as one-off or "
           "vegetation fires."),
    "zh": ("NO2/SO2：选取 qa_value 高于产品手册阈值（NO2 0.75，SO2 0.5）的哨兵-5P TROPOMI L2 像元，按像元足迹面积与 1/精度² 加权"
           "过采样到 1 km 园区网格（Sun 等，2018）并按时段平均；园区增强 = 园区均值 − 15 km 环带均值，不确定度取精度传播与按天自助法两者中较大者；"
           "给定风场时用通量散度法（Beirle 等，2019）估算排放。热异常：Landsat C2 L2 地表温度（或任意 LST GeoTIFF）与同类地表的局地背景比较"
           "（1.5 km 窗口内中位数/MAD 稳健 z 值），热点簇关联到最近企业。持续热源：FIRMS 火点按米制 DBSCAN 聚类，持续率 = 有探测的日数/观测天数，"
           "持续且紧凑的簇（或 FIRMS type 2）为热源，其余作为一次性/植被火单列。"),
}
_LIMITS = [
    {"en": "TROPOMI pixels (3.5 × 5.5 km) are larger than most parks: the NO2/SO2 enhancement is a park-level signal and cannot be "
           "attributed to one enterprise; regional gradients and plumes from outside can bias the park − ring difference.",
     "zh": "TROPOMI 像元（3.5×5.5 km）大于多数园区：NO2/SO2 增强是园区整体信号，无法归属到单个企业；区域梯度和外部烟羽可能影响园区−环带差值。"},
    {"en": "Flux-divergence detection limits: NOx ≈ 0.03–0.11 kg/s, SO2 ≈ 8 kt/yr; parks below them are reported as not detectable, "
           "which does not mean zero emissions.",
     "zh": "通量散度法检出限：NOx 约 0.03–0.11 kg/s，SO2 约 8 kt/年；低于检出限的园区报告为“不可检出”，并不等于零排放。"},
    {"en": "Landsat surface temperature is one overpass (about 10:30 local time, 100 m thermal band resampled to 30 m): small or "
           "intermittent heat sources can be missed, and sunlit dark roofs can look hot.",
     "zh": "Landsat 地表温度为单次过境（当地约 10:30，100 m 热红外重采样至 30 m）：小型或间歇热源可能漏检，向阳深色屋顶可能显得偏热。"},
    {"en": "FIRMS detects fires and hot spots larger than its detection threshold (VIIRS ≈ 375 m pixels); cloud and overpass timing "
           "limit persistence counts.",
     "zh": "FIRMS 仅能探测超过阈值的火点/热点（VIIRS 像元约 375 m）；云和过境时间会影响持续率统计。"},
]


@register("satellite", inputs=("no2", "so2", "thermal", "fires", "wind", "reference"), order=40,
          label={"en": "Satellite hotspots", "zh": "卫星热点"})
def run(park, ctx, *, no2=None, so2=None, thermal=None, fires=None, wind=None, reference=None) -> DiagnosticResult:
    """NO2/SO2 enhancement, thermal anomalies and persistent heat sources over a park.

    Examples
    --------
    >>> from parkscan.diagnostics.registry import ScreenContext
    >>> res = run(park, ScreenContext(), no2=["s5p/"], fires="fires/firms_viirs_snpp.csv")  # doctest: +SKIP
    >>> [f.kind for f in res.findings]  # doctest: +SKIP
    """
    res = DiagnosticResult(name="satellite", methods=dict(_METHODS), limitations=list(_LIMITS))
    errors: list[str] = []
    parts_ok: list[str] = []
    files = expand_s5p(no2) + expand_s5p(so2)
    plants = None
    if reference:
        try:
            allp = read_gppd(reference)
            plants = plants_near_park(allp[allp["fuel"].str.lower().isin({"coal", "gas", "oil", "petcoke"})], park, within_m=10_000.0)
            res.inputs.append(input_item(reference, kind="reference", id="reference-gppd", extra={"plants_near_park": int(len(plants))}))
            res.attributions.append(GPPD_ATTRIBUTION)
            res.indicators["power_plants_near"] = {"value": int(len(plants)), "unit": "",
                                                   "label": {"en": "Fossil power plants within 10 km (WRI GPPD)", "zh": "10 km 内化石燃料电厂（WRI GPPD）"}}
            if len(plants):
                res.layers.append(_plants_layer(plants, ctx.lang))
            parts_ok.append("reference")
        except SourceIOError as err:
            errors.append(str(err))
    wind_src = "given"
    wind = wind or ctx.params.get("wind")
    if wind is None and files:
        wind = _scenario_wind(files)
        wind_src = "scenario.json wind input"
    years: set[int] = set()
    if files:
        n_err = len(errors)
        products = {}
        for f in files:
            try:
                products.setdefault(read_s5p_metadata(f).product, []).append(f)
            except SourceIOError as err:
                errors.append(str(err))
        for prod in ("NO2", "SO2"):
            if prod in products:
                years |= _column_part(park, ctx, products[prod], prod, wind, wind_src, plants, res, errors)
        if any(i.kind in ("no2", "so2") for i in res.inputs):
            parts_ok.append("no2")
            if wind is None and not any(e.get("wind_source") for f in res.findings for e in [f.evidence]) \
                    and not any(k.endswith("_emission") for k in res.indicators):
                res.limitations.append({"en": "No wind given: no flux-divergence emission estimate.", "zh": "未提供风场：未做通量散度排放估算。"})
        elif len(errors) > n_err and not (thermal or fires):
            raise SourceIOError(errors[-1])
    if thermal:
        ctx.report("thermal anomalies", 0.6)
        try:
            _thermal_part(park, ctx, Path(thermal), res)
            parts_ok.append("thermal")
            res.attributions.append("USGS Landsat" if "landsat" in str(res.inputs[-1].extra.get("kind")) else "LST: user-supplied raster")
        except ParkscanError as err:
            if not (files or fires):
                raise
            errors.append(str(err))
    if fires:
        ctx.report("heat sources", 0.8)
        try:
            _fires_part(park, ctx, Path(fires), res, plants)
            parts_ok.append("fires")
            res.attributions.append("NASA FIRMS (VIIRS/MODIS active fires)")
        except ParkscanError as err:
            if not (files or thermal):
                raise
            errors.append(str(err))
    if years:
        res.attributions.insert(0, f"Contains modified Copernicus Sentinel data {_years_label(years)}")
    dates = sorted({part for i in res.inputs for d in i.dates if d for part in str(d).split("/")})
    used = sorted({i.kind for i in res.inputs})
    zh_names = {"no2": "NO2", "so2": "SO2", "thermal": "地表温度", "fires": "火点", "reference": "电厂名录"}
    res.coverage = {**res.coverage, "status": "partial" if errors else "ok", "dates": [f"{dates[0]}/{dates[-1]}"] if dates else [],
                    "inputs": used + (["wind"] if any("wind_source" in f.evidence for f in res.findings) else []),
                    "detail": "; ".join(errors)[:800] if errors else f"used: {', '.join(used) or 'nothing'}",
                    "detail_zh": ("部分输入无法读取：" + "; ".join(errors)[:800]) if errors
                    else "已使用：" + "、".join(zh_names.get(k, k) for k in used)}
    if errors and not parts_ok:
        res.coverage["status"] = "failed"
    return res
