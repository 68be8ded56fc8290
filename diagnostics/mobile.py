"""The built-in mobile-monitoring (走航) diagnostic: hotspots with evidence and upwind enterprises.

Registered as ``mobile`` with inputs ``mobile`` (list of files), ``mobile_datum`` and ``wind``. It reads the
files with :func:`parkscan.sources.mobile.read_mobile`, analyses them with
:func:`parkscan.models.mobile.analyse` and returns ``mobile_hotspot`` findings, indicators, map layers
(a concentration track per main pollutant and the hotspot segments), the inputs for the manifest and
the tables ``segments``, ``peaks``, ``flags``, ``hotspots`` and ``enterprise_scores``.

Options come from ``ctx.params["mobile"]`` (a dict): ``mapping``, ``tz``, ``clock_offset_s``, ``lag_s``,
``spacing_m``, ``band_m``, ``alpha``, ``min_passes``, ``background``, ``window_s``; ``ml`` (True: also the LUR/NMF
comparisons and the campaign plan as tables), ``landcover`` (class raster path: land-cover features for the LUR,
measured with and without them) and ``landcover_classes`` ({code: name}).
"""
from __future__ import annotations

import json
import logging
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from shapely.geometry import Point

from .findings import Finding, finding_id
from .registry import DiagnosticResult, InputItem, register

__all__ = ["run", "mobile_result", "ml_tables", "METHODS", "LIMITATIONS"]

log = logging.getLogger(__name__)

_NAMES = {"tvoc": "TVOC", "benzene": "benzene", "toluene": "toluene", "xylene": "xylene", "pm25": "PM2.5", "pm10": "PM10",
          "no2": "NO2", "so2": "SO2", "h2s": "H2S", "nh3": "NH3", "co": "CO", "co2": "CO2", "bc": "BC", "pn": "particle number",
          "o3": "O3", "ethylbenzene": "ethylbenzene", "styrene": "styrene", "hcl": "HCl"}
_ZH = {"tvoc": "TVOC", "benzene": "苯", "toluene": "甲苯", "xylene": "二甲苯", "pm25": "PM2.5", "pm10": "PM10", "no2": "NO2",
       "so2": "SO2", "h2s": "硫化氢", "nh3": "氨", "co": "CO", "co2": "CO2", "bc": "黑碳", "pn": "颗粒物数浓度", "o3": "臭氧",
       "ethylbenzene": "乙苯", "styrene": "苯乙烯", "hcl": "氯化氢"}
_UNIT = {"ug/m3": "µg/m³", "mg/m3": "mg/m³", "ppb": "ppb", "ppm": "ppm", "#/cm3": "#/cm³", None: ""}

METHODS = {
    "en": ("Mobile-monitoring files were read with header recognition (Chinese/English), converted to canonical units "
           "(ppb→µg/m³ at the stated temperature and pressure) and to WGS-84, and cleaned with a reason code for every "
           "excluded row or value. The background of each pollutant is a rolling 5th percentile over 5 min (Brantley et al. "
           "2014); peaks are excess above max(k×background, 3 robust SD), grouped in time and space (von Fischer et al. 2017). "
           "Tracks were cut into ~30 m segments built from the tracks themselves; each segment value is the median over "
           "passes of the per-pass medians. Hotspots are segments with a significant Getis-Ord Gi* (esda, 100 m band) after "
           "Benjamini–Hochberg FDR at 5 %; each hotspot is attributed to the enterprises upwind (sector ±45°, 2 km) scored "
           "by angle, distance and the match of the co-occurring pollutants with industry fingerprints."),
    "zh": ("走航数据经中英文表头识别、单位换算（ppb→µg/m³，按给定温度和气压）和坐标系转换（WGS-84）后，逐行清洗并记录原因代码。"
           "各污染物背景值取 5 分钟滑动第 5 百分位数（Brantley 等，2014）；超出 max(k×背景, 3 倍稳健标准差) 的部分按时间和空间"
           "合并为峰值（von Fischer 等，2017）。轨迹按约 30 米自动切分路段，路段值为各次经过中位数的中位数。"
           "路段 Getis-Ord Gi* 统计量（esda，100 米邻域）经 Benjamini–Hochberg 错误发现率 5% 校正后显著者为高值区；"
           "高值区按上风向扇区（±45°，2 公里）内企业的方位、距离及污染物组合与行业特征谱的匹配度进行溯源。"),
}
LIMITATIONS = [
    {"en": "Segments driven fewer than 4 times are unreliable (Messier et al. 2018); their hotspots have reduced confidence.",
     "zh": "经过次数少于 4 次的路段可靠性低（Messier 等，2018），相应高值区的置信度已下调。"},
    {"en": "Attribution is a screening hint: it assumes the wind in the file (or given) held during the passes and that sources are listed enterprises.",
     "zh": "溯源仅为筛查提示：假定文件中（或给定）的风向在走航期间稳定，且污染源为名录内企业。"},
    {"en": "Concentrations near roads include traffic; hotspots that match the traffic fingerprint (NO/BC/particle number) may be traffic.",
     "zh": "道路附近浓度含机动车排放；与交通特征谱（NO/黑碳/颗粒物数浓度）吻合的高值区可能来自交通。"},
]


def _fmt(v: float) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def _explain(h: Mapping[str, Any], units: Mapping[str, str | None]) -> dict[str, str]:
    p = h["pollutants"][0]
    u = _UNIT.get(units.get(p), units.get(p) or "")
    val, bg = h["values"].get(p, np.nan), h["background"].get(p, np.nan)
    ent = h["enterprise_name"] or h["enterprise_id"]
    wind = "" if h["wind_from"] is None else f" with wind from {h['wind_from']:.0f}°"
    wind_zh = "" if h["wind_from"] is None else f"，风向 {h['wind_from']:.0f}°"
    pols = ", ".join(_NAMES.get(x, x) for x in h["pollutants"])
    pols_zh = "、".join(_ZH.get(x, x) for x in h["pollutants"])
    en = (f"{pols} elevated over {h['n_segments']} road segment(s): {_NAMES.get(p, p)} median {_fmt(val)} {u} vs background "
          f"{_fmt(bg)} {u} over {h['n_passes']} pass(es){wind}")
    zh = f"{pols_zh} 在 {h['n_segments']} 个路段偏高：{_ZH.get(p, p)} 中位数 {_fmt(val)} {u}，背景 {_fmt(bg)} {u}，经过 {h['n_passes']} 次{wind_zh}"
    if ent:
        en += f"; most likely upwind source {ent}."
        zh += f"；最可能的上风向来源为 {ent}。"
    else:
        en += "; no confident upwind enterprise." if h["candidates"] else "."
        zh += "；未能可靠确定上风向企业。" if h["candidates"] else "。"
    return {"en": en, "zh": zh}


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (np.floating, float)):
        return None if not np.isfinite(v) else float(f"{float(v):.6g}")
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _findings(analysis, park_id: str, source_ids: tuple[str, ...], dates: Sequence[str]) -> list[Finding]:
    out = []
    seg = analysis.segments.table
    for _, h in analysis.hotspots.iterrows():
        members = h["segment_ids"]
        peak_vals = {}
        for p in h["pollutants"]:
            raw = analysis.points.loc[analysis.points["segment"].isin(members), p]
            peak_vals[p] = {"segment_median": h["values"].get(p), "excess": h["excess"].get(p), "background": h["background"].get(p),
                            "max_reading": float(raw.max()) if raw.notna().any() else None, "unit": analysis.units.get(p),
                            "gi_z": h["z"].get(p), "p_value": h["p"].get(p), "q_value": h["q"].get(p)}
        evidence = {
            "pollutants": list(h["pollutants"]), "peak_values": peak_vals, "passes": int(h["n_passes"]), "reliable": bool(h["reliable"]),
            "p_value": min(h["p"].values()), "q_value": min(h["q"].values()), "n_segments": int(h["n_segments"]),
            "peak_recurrence": h["peak_recurrence"],
            "wind": {"from_deg": h["wind_from"], "speed_ms": h["wind_speed"], "source": h["wind_source"], "steadiness": h["wind_steadiness"]},
            "candidate_enterprises": h["candidates"], "attribution_confidence": h["attribution_confidence"],
            "fingerprint": h["fingerprint"], "dates": list(dates),
        }
        fid = finding_id("mobile_hotspot", park_id, round(float(h["lon"]), 5), round(float(h["lat"]), 5), list(h["pollutants"]))
        out.append(Finding(id=fid, kind="mobile_hotspot", severity=float(h["severity"]), confidence=float(h["confidence"]),
                           geometry=Point(float(h["lon"]), float(h["lat"])), enterprise_id=h["enterprise_id"],
                           evidence=_jsonable(evidence), sources=source_ids, explain=_explain(h, analysis.units)))
    return out


def _segment_features(analysis, only_hot: bool) -> dict[str, Any]:
    t = analysis.segments.table
    hot_any = np.zeros(len(t), bool)
    for p in analysis.pollutants:
        hot_any |= t[f"hot_{p}"].to_numpy(bool)
    hs_of = {}
    for _, h in analysis.hotspots.iterrows():
        for s in h["segment_ids"]:
            hs_of[int(s)] = h["hotspot_id"]
    feats = []
    for i in np.flatnonzero(hot_any) if only_hot else range(len(t)):
        r = t.iloc[i]
        props = {"segment_id": int(r["segment_id"]), "hotspot_id": hs_of.get(int(i)), "n_passes": int(r["n_passes"]), "reliable": bool(r["reliable"]),
                 "hot": ",".join(p for p in analysis.pollutants if bool(r[f"hot_{p}"]))}
        for p in analysis.pollutants:
            props[p] = None if not np.isfinite(r[p]) else round(float(r[p]), 4)
            props[f"z_{p}"] = None if not np.isfinite(r[f"z_{p}"]) else round(float(r[f"z_{p}"]), 3)
            props[f"q_{p}"] = None if not np.isfinite(r[f"q_{p}"]) else float(f"{r[f'q_{p}']:.3g}")
        feats.append({"type": "Feature", "properties": props,
                      "geometry": {"type": "LineString", "coordinates": [[round(float(r["lon0"]), 7), round(float(r["lat0"]), 7)],
                                                                          [round(float(r["lon1"]), 7), round(float(r["lat1"]), 7)]]}})
    return {"type": "FeatureCollection", "features": feats}


def _layers(analysis, lang: str, max_track_points: int = 20000):
    from parkscan.maps.layers import TrackLayer, VectorLayer

    pts = analysis.points
    counts = {p: sum(p in h for h in analysis.hotspots["pollutants"]) for p in analysis.pollutants}
    main = sorted(analysis.pollutants, key=lambda p: (-counts[p], analysis.pollutants.index(p)))[:3]
    v = pts[pts["valid"]]
    step = max(1, len(v) // max_track_points)
    v = v.iloc[::step]
    layers = []
    for i, p in enumerate(main):
        name = (_ZH if lang == "zh" else _NAMES).get(p, p)
        layers.append(TrackLayer(name=("走航 " if lang == "zh" else "Track ") + name, lon=v["lon"].to_numpy(float), lat=v["lat"].to_numpy(float),
                                 values=v[p].to_numpy(float), unit=_UNIT.get(analysis.units.get(p), analysis.units.get(p) or ""), pollutant=name, show=i == 0))
    fc = _segment_features(analysis, only_hot=True)
    popup = [("hotspot_id", "hotspot" if lang == "en" else "高值区"), ("hot", "pollutants" if lang == "en" else "污染物"),
             ("n_passes", "passes" if lang == "en" else "经过次数"), ("reliable", "reliable" if lang == "en" else "可靠")]
    popup += [(p, f"{_NAMES.get(p, p)} ({_UNIT.get(analysis.units.get(p), '')})") for p in main]
    layers.append(VectorLayer(name="高值路段" if lang == "zh" else "Hotspot segments", features=fc, kind="segments",
                              style={"color": "#d7301f", "weight": 6, "opacity": 0.9}, popup_fields=tuple(popup)))
    return layers


def mobile_result(park, mobile_run, analysis, *, lang: str = "en") -> DiagnosticResult:
    """Build the :class:`DiagnosticResult` of an analysed run (used by :func:`run` and ``parkscan mobile``)."""
    items = []
    dates = mobile_run.dates
    flags = mobile_run.flags
    for f in mobile_run.files:
        fl = flags[flags["file"].isin([f.path, f.path.rsplit("/", 1)[-1]])]
        items.append(InputItem(id=f"mobile:{f.path.rsplit('/', 1)[-1]}", uri=f.path, kind="mobile", sha256=f.sha256, size=f.size, dates=tuple(dates),
                               extra={"rows": f.rows, "rows_flagged": int(fl.loc[fl["excluded"], "row"].nunique()), "reader": f.reader,
                                      "encoding": f.encoding, "columns": dict(f.columns), "file_kind": f.kind, "datum": f.datum, "tz": f.tz}))
    ids = tuple(i.id for i in items)
    findings = _findings(analysis, getattr(park, "id", "track"), ids, dates)
    seg = analysis.segments.table
    passes = seg["n_passes"].to_numpy()
    hs = analysis.hotspots
    indicators: dict[str, Any] = {
        "mobile_hotspots": int(len(hs)),
        **{f"mobile_hotspots_{p}": int(sum(p in x for x in hs["pollutants"])) for p in analysis.pollutants},
        "mobile_km_driven": round(mobile_run.km_driven(), 2),
        "mobile_points": int(len(mobile_run.points)),
        "mobile_points_valid": int(mobile_run.points["valid"].sum()),
        "mobile_segments": int(len(seg)),
        "mobile_passes_median": float(np.median(passes)) if len(passes) else None,
        "mobile_passes_max": int(passes.max()) if len(passes) else None,
        "mobile_segments_reliable_pct": round(100.0 * float((passes >= analysis.segments.min_passes).mean()), 1) if len(passes) else None,
        "mobile_dates": list(dates),
        "mobile_pollutants": list(analysis.pollutants),
        "mobile_flags": {str(k): int(v) for k, v in flags["code"].value_counts().items()},
    }
    limitations = list(LIMITATIONS)
    if len(passes) and np.median(passes) < analysis.segments.min_passes:
        limitations.insert(0, {"en": f"Most segments were driven only {int(np.median(passes))} time(s): the map and hotspots are indicative only.",
                               "zh": f"多数路段仅经过 {int(np.median(passes))} 次：地图与高值区仅供参考。"})
    if analysis.wind.get("source") == "none":
        limitations.insert(0, {"en": "No wind in the files and none given: attribution uses distance only.", "zh": "文件无风向数据且未给定风向：溯源仅按距离。"})
    tables = {
        "segments": seg.drop(columns=[c for c in ("x", "y") if c in seg]),
        "peaks": _peak_table(analysis.peaks),
        "flags": flags,
        "hotspots": _flat_hotspots(hs),
        "enterprise_scores": analysis.enterprise_scores,
    }
    status = "ok" if len(passes) and np.median(passes) >= analysis.segments.min_passes else "partial"
    return DiagnosticResult(
        name="mobile", findings=findings, indicators=indicators, layers=_layers(analysis, lang), inputs=items,
        coverage={"status": status, "dates": list(dates),
                  "detail": f"{len(mobile_run.files)} file(s), {indicators['mobile_km_driven']} km, median {indicators['mobile_passes_median']} pass(es) per segment"},
        methods=dict(METHODS), limitations=limitations, attributions=[], tables=tables,
    )


def ml_tables(analysis, enterprises=None, *, seed: int = 0, plan: bool = True, lur: bool = True, landcover=None,
              landcover_classes: Mapping[int, str] | None = None) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The ML comparisons and the campaign plan as tables, plus a JSON-able summary (problems are notes, not errors).

    Tables: ``lur_cv`` (GBM/RF vs mean/IDW, leave-one-day-out and spatial blocks, per pollutant; with a
    ``landcover`` class raster also ``gbm+lc``/``rf+lc`` using class fractions within 100/300 m),
    ``nmf_profiles``, ``nmf_matches`` (with agreement to the hotspots' fingerprints), ``plan`` (drives needed per
    pollutant). An unreadable land-cover raster raises (it was asked for); missing coverage is a note.
    """
    from parkscan.aoi.errors import ModelError
    from parkscan.models.mobile.ml import lur_cv, lur_dataset, nmf_apportion
    from parkscan.models.mobile.planner import plan_passes

    tables: dict[str, pd.DataFrame] = {}
    notes: dict[str, Any] = {}
    counts = {p: sum(p in h for h in analysis.hotspots["pollutants"]) for p in analysis.pollutants}
    main = sorted(analysis.pollutants, key=lambda p: (-counts[p], analysis.pollutants.index(p)))[:2]
    if lur:
        parts = []
        lc = None
        if landcover is not None:
            from parkscan.models.mobile.landcover_features import segment_landcover

            try:
                lc = segment_landcover(analysis, landcover, classes=landcover_classes)
                notes["lur_landcover"] = {"raster": str(landcover), "features": list(lc.columns),
                                          "segments_covered": int(lc.notna().all(axis=1).sum()), "segments": int(len(lc))}
            except ModelError as err:
                notes["lur_landcover"] = str(err)
        for p in main:
            try:
                cv = lur_cv(lur_dataset(analysis, enterprises, p, landcover=lc), seed=seed)
                cv.insert(0, "pollutant", p)
                parts.append(cv)
            except ModelError as err:
                notes[f"lur_{p}"] = str(err)
        if parts:
            tables["lur_cv"] = pd.concat(parts, ignore_index=True)
    try:
        nmf = nmf_apportion(analysis.points, analysis.pollutants, seed=seed)
        prof = nmf.profiles.reset_index(names="factor")
        tables["nmf_profiles"] = prof
        m = nmf.matches.copy()
        fp = [h["fingerprint"]["industry"] for h in analysis.hotspots.to_dict("records")]
        m["hotspots_with_same_fingerprint"] = [sum(f == ind for f in fp) for ind in m["industry"]]
        tables["nmf_matches"] = m
        notes["nmf"] = {"k": nmf.k, "r2": round(nmf.r2, 3),
                        "hotspot_fingerprints_explained": round(float(np.mean([f in set(m["industry"]) for f in fp])), 3) if fp else None}
    except ModelError as err:
        notes["nmf"] = str(err)
    if plan:
        rows = []
        for p in analysis.pollutants:
            try:
                pl = plan_passes(analysis, p, seed=seed)
                rows.append({"pollutant": p, "drives": pl.drives, "single_drive_reliability": round(pl.r1, 3), "drives_needed_for_0.8": pl.needed})
            except ModelError as err:
                notes[f"plan_{p}"] = str(err)
        if rows:
            tables["plan"] = pd.DataFrame(rows)
    return tables, notes


def _peak_table(peaks: pd.DataFrame) -> pd.DataFrame:
    out = peaks.drop(columns=[c for c in ("x", "y") if c in peaks]).copy()
    for c in ("t_start", "t_end"):
        if c in out:
            out.insert(out.columns.get_loc(c), c.replace("t_", "time_"), pd.to_datetime(out[c].astype(float), unit="s", utc=True).dt.strftime("%Y-%m-%d %H:%M:%S"))
    return out.drop(columns=[c for c in ("t_start", "t_end") if c in out])


def _flat_hotspots(hs: pd.DataFrame) -> pd.DataFrame:
    if not len(hs):
        return pd.DataFrame(columns=["hotspot_id", "pollutants", "lon", "lat"])
    out = hs.drop(columns=["x", "y", "segment_ids"]).copy()
    for c in ("pollutants", "values", "excess", "background", "z", "p", "q", "candidates", "fingerprint"):
        out[c] = [json.dumps(_jsonable(v), ensure_ascii=False) for v in out[c]]
    return out


@register("mobile", inputs=("mobile", "mobile_datum", "wind"), label={"en": "Mobile monitoring", "zh": "走航监测"})
def run(park, ctx, *, mobile=None, mobile_datum: str | None = "wgs84", wind: Mapping[str, float] | None = None) -> DiagnosticResult:
    """Read and analyse mobile-monitoring files over ``park``."""
    from parkscan.models.mobile import analyse
    from parkscan.sources.mobile import read_mobile

    opts = dict((ctx.params or {}).get("mobile") or {})
    files = [mobile] if isinstance(mobile, (str, bytes)) or hasattr(mobile, "__fspath__") else list(mobile or [])
    ctx.report("reading mobile files", 0.0)
    mrun = read_mobile(files, mapping=opts.get("mapping"), datum=mobile_datum or "wgs84", tz=opts.get("tz"),
                       clock_offset_s=opts.get("clock_offset_s", 0.0), lag_s=opts.get("lag_s"))
    ctx.report("segments, Gi*, attribution", 0.4)
    keys = ("spacing_m", "band_m", "alpha", "min_passes", "background", "window_s", "q", "k", "half_angle", "max_dist_m", "permutations", "lag", "roads")
    analysis = analyse(mrun, crs=park.crs if park is not None else None, enterprises=getattr(park, "enterprises", None), wind=wind,
                       **{k: opts[k] for k in keys if k in opts})
    ctx.report("findings", 0.9)
    res = mobile_result(park, mrun, analysis, lang=ctx.lang)
    if opts.get("ml"):
        extra, notes = ml_tables(analysis, getattr(park, "enterprises", None), seed=ctx.seed, landcover=opts.get("landcover"),
                                 landcover_classes=opts.get("landcover_classes"))
        res.tables.update(extra)
        res.indicators["mobile_ml_notes"] = notes
    return res
