"""The indicator sheet: one table of numbers that sums up a screening, with its data coverage.

Each indicator is ``{"value", "unit", "label": {"en", "zh"}, "section", "diagnostic", "status"}``
where ``status`` is ``measured``, ``not_measured`` (the diagnostic ran but could not tell) or
``not_provided`` (its input data were not given) — a missing number is never shown as zero.

Diagnostics return ``DiagnosticResult.indicators`` as ``name → value`` or
``name → {"value", "unit", "label": {"en", "zh"}}``; the core indicators below are always
present, the others are added under their diagnostic's section.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from .findings import KINDS, Finding, _jsonable

__all__ = ["CORE", "KIND_SOURCE", "indicator_sheet", "counts_by_kind", "coverage_table"]

# name: (section, diagnostic, unit, en, zh)
CORE: dict[str, tuple[str, str, str, str, str]] = {
    "approved_ha": ("boundary", "boundary", "ha", "Approved area", "批复面积"),
    "managed_ha": ("boundary", "boundary", "ha", "Managed area", "实际管理面积"),
    "managed_outside_approved_ha": ("boundary", "boundary", "ha", "Managed area outside the approved boundary", "批复边界外的管理面积"),
    "managed_outside_approved_pct": ("boundary", "boundary", "%", "…as share of the managed area", "……占管理面积比例"),
    "approved_not_managed_ha": ("boundary", "boundary", "ha", "Approved area not managed", "批复但未纳入管理的面积"),
    "approved_not_managed_pct": ("boundary", "boundary", "%", "…as share of the approved area", "……占批复面积比例"),
    "footprint_ha": ("boundary", "boundary", "ha", "Approved ∪ managed area", "批复与管理范围合计面积"),
    "n_approved_parts": ("boundary", "boundary", "", "Separate parts of the approved boundary", "批复边界地块数"),
    "n_subparks": ("boundary", "boundary", "", "Sub-parks", "子园区数"),
    "subpark_max_distance_km": ("boundary", "boundary", "km", "Largest distance between sub-parks", "子园区最大间距"),
    "convex_hull_ratio": ("boundary", "boundary", "", "Scatter (convex hull / area; 1 = compact)", "分散度（凸包面积/面积，1 为紧凑）"),
    "enterprises": ("boundary", "boundary", "", "Enterprises listed", "企业名录数量"),
    "enterprises_outside_approved": ("boundary", "boundary", "", "Enterprises outside the approved boundary (beyond tolerance)", "批复边界外企业数（超出容差）"),
    "enterprises_outside_managed": ("boundary", "boundary", "", "Enterprises outside the managed boundary (beyond tolerance)", "管理边界外企业数（超出容差）"),
    "enterprises_outside_footprint": ("boundary", "boundary", "", "Enterprises outside approved ∪ managed", "批复与管理范围外企业数"),
    "built_up_inside_approved_ha": ("landcover", "landcover", "ha", "Built-up inside the approved boundary", "批复边界内建设用地"),
    "built_up_outside_approved_ha": ("landcover", "landcover", "ha", "Built-up outside the approved boundary", "批复边界外建设用地"),
    "built_up_change_ha": ("landcover", "landcover", "ha", "Change in built-up area", "建设用地变化"),
    "farmland_loss_ha": ("landcover", "landcover", "ha", "Farmland lost", "耕地减少面积"),
    "no2_enhancement": ("atmosphere", "satellite", "", "NO₂ enhancement over the surroundings", "NO₂ 相对周边增强"),
    "so2_enhancement": ("atmosphere", "satellite", "", "SO₂ enhancement over the surroundings", "SO₂ 相对周边增强"),
    "heat_sources": ("heat", "satellite", "", "Persistent heat sources", "持续热源数"),
    "mobile_hotspots": ("mobile", "mobile", "", "Mobile-monitoring hotspots", "走航高值点数"),
}
"""Indicators always present in the sheet."""

KIND_SOURCE: dict[str, str] = {
    "built_up_outside_approved": "landcover", "farmland_loss": "landcover", "bare_soil": "landcover",
    "landcover_change": "landcover", "mobile_hotspot": "mobile", "no2_enhancement": "satellite",
    "so2_enhancement": "satellite", "thermal_anomaly": "satellite", "heat_source": "satellite",
    "boundary_confusion": "boundary",
}
"""Which built-in diagnostic can produce each finding kind."""

# labels (unit, en, zh) of indicators that built-in diagnostics report without labels
LABELS: dict[str, tuple[str, str, str]] = {
    "mobile_km_driven": ("km", "Distance driven", "走航里程"),
    "mobile_points": ("", "Measurements (1 Hz)", "测量点数（1 Hz）"),
    "mobile_points_valid": ("", "Valid measurements", "有效测量点数"),
    "mobile_segments": ("", "Road segments measured", "测量路段数"),
    "mobile_passes_median": ("", "Passes per segment (median)", "每路段走航次数（中位数）"),
    "mobile_passes_max": ("", "Passes per segment (max)", "每路段走航次数（最大）"),
    "mobile_segments_reliable_pct": ("%", "Segments with enough passes", "走航次数充足的路段比例"),
    "mobile_dates": ("", "Dates driven", "走航日期"),
    "mobile_pollutants": ("", "Pollutants measured", "监测污染物"),
    "mobile_flags": ("", "Rows flagged", "被标记的数据行"),
    "changed_area_ha": ("ha", "Changed area (all classes)", "变化面积（所有类别）"),
    "change_index_thresholds": ("", "Change-index thresholds", "变化指数阈值"),
}
_PATTERNS: tuple[tuple[str, str, str, str], ...] = (
    # (regex, unit, en, zh) with {0}, {1} filled from the groups
    (r"^mobile_hotspots_(\w+)$", "", "Mobile hotspots: {0}", "走航高值点数：{0}"),
    (r"^built_up_share_(approved|outside_approved)_(before|after|change)$", "", "Built-up share, {0}, {1}", "建设用地占比，{0}，{1}"),
    (r"^areas_by_class_(approved|outside_approved)_(before|after)$", "ha", "Area by land-cover class, {0}, {1}", "各地类面积，{0}，{1}"),
)
_WORDS = {"approved": ("inside the approved boundary", "批复边界内"), "outside_approved": ("outside the approved boundary", "批复边界外"),
          "before": ("before", "前期"), "after": ("after", "后期"), "change": ("change", "变化")}


def _auto_label(name: str) -> tuple[str, dict[str, str]] | None:
    """Unit and en/zh label of an indicator known by name or pattern, or None."""
    import re

    if name in LABELS:
        unit, en, zh = LABELS[name]
        return unit, {"en": en, "zh": zh}
    for rx, unit, en, zh in _PATTERNS:
        m = re.match(rx, name)
        if m:
            g = m.groups()
            ge = [_WORDS.get(x, (x.upper() if len(x) <= 5 else x, x))[0] for x in g]
            gz = [_WORDS.get(x, (x, x.upper() if len(x) <= 5 else x))[1] for x in g]
            return unit, {"en": en.format(*ge), "zh": zh.format(*gz)}
    return None


_ALIASES = {"n_heat_sources": "heat_sources", "n_mobile_hotspots": "mobile_hotspots", "n_enterprises": "enterprises"}

SECTIONS = ("boundary", "landcover", "mobile", "atmosphere", "heat", "findings")


def _clean(v: Any) -> Any:
    if hasattr(v, "item") and callable(v.item):
        v = v.item()
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


def _humanise(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def counts_by_kind(findings: Sequence[Finding]) -> dict[str, int]:
    """Number of findings per kind (only kinds that occur), sorted by kind."""
    out: dict[str, int] = {}
    for f in findings:
        out[f.kind] = out.get(f.kind, 0) + 1
    return dict(sorted(out.items()))


#: core indicators that need one specific input: without it they are "not provided", not "not measured"
NEEDS_INPUT = {"no2_enhancement": "no2", "so2_enhancement": "so2", "heat_sources": "fires", "mobile_hotspots": "mobile",
               "findings.no2_enhancement": "no2", "findings.so2_enhancement": "so2", "findings.heat_source": "fires",
               "findings.thermal_anomaly": "thermal"}


def indicator_sheet(
    results: Mapping[str, Any],
    status: Mapping[str, str],
    findings: Sequence[Finding],
    *,
    provided: Sequence[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Merge the diagnostics' indicators into one sheet.

    Parameters
    ----------
    results : mapping
        Diagnostic name → DiagnosticResult of the diagnostics that ran.
    status : mapping
        Diagnostic name → coverage status of every registered diagnostic.
    findings : sequence of Finding
        All findings (for the counts by kind).
    provided : sequence of str, optional
        ``screen()`` inputs that were given: indicators needing a missing input are ``not_provided``.

    Returns
    -------
    dict
        Indicator name → entry (see the module docstring), core indicators first.
    """
    sheet: dict[str, dict[str, Any]] = {}
    for name, (section, diag, unit, en, zh) in CORE.items():
        st = status.get(diag)
        sheet[name] = {"value": None, "unit": unit, "label": {"en": en, "zh": zh}, "section": section, "diagnostic": diag,
                       "status": "not_provided" if st in (None, "not_provided", "failed") else "not_measured"}
    for diag, res in results.items():
        for raw_name, raw in (res.indicators or {}).items():
            name = _ALIASES.get(raw_name, raw_name)
            is_entry = isinstance(raw, Mapping) and ("value" in raw or "status" in raw)
            if is_entry:
                value, unit = _clean(raw.get("value")), raw.get("unit", "")
                label = raw.get("label") or {}
                if isinstance(label, str):
                    label = {"en": label, "zh": label}
            else:
                value, unit, label = (_jsonable(raw) if isinstance(raw, Mapping) else _clean(raw)), "", {}
            if name in sheet and sheet[name]["diagnostic"] != diag and sheet[name]["status"] == "measured":
                name = f"{diag}.{name}"  # two diagnostics report the same name: keep both
            auto = _auto_label(raw_name)
            if auto is not None:
                unit = unit or auto[0]
                label = {**auto[1], **{k: v for k, v in dict(label).items() if v}}
            entry = sheet.get(name) or {"value": None, "unit": unit, "label": {}, "section": diag, "diagnostic": diag}
            entry = dict(entry)
            entry["value"] = value
            entry["unit"] = unit or entry.get("unit", "")
            entry["label"] = {"en": label.get("en") or entry["label"].get("en") or _humanise(raw_name),
                              "zh": label.get("zh") or entry["label"].get("zh") or label.get("en") or _humanise(raw_name)}
            entry["diagnostic"] = diag
            entry["status"] = "measured" if value is not None else "not_measured"
            if is_entry and raw.get("status") in ("measured", "not_measured", "not_provided"):
                entry["status"] = raw["status"]
            sheet[name] = entry
    if "landcover" in results:
        _derive_landcover(sheet, results["landcover"].indicators or {})
    counts = counts_by_kind(findings)
    for kind, labels in KINDS.items():
        diag = KIND_SOURCE.get(kind)
        st = status.get(diag) if diag else None
        ran = any(f.kind == kind for f in findings) or st in ("ok", "partial")
        sheet[f"findings.{kind}"] = {
            "value": counts.get(kind, 0) if ran else None, "unit": "", "section": "findings", "diagnostic": diag or "",
            "label": {"en": labels["en"], "zh": labels["zh"]}, "status": "measured" if ran else "not_provided",
        }
    if sheet["mobile_hotspots"]["value"] is None and status.get("mobile") in ("ok", "partial"):
        sheet["mobile_hotspots"].update(value=counts.get("mobile_hotspot", 0), status="measured")
    if sheet["heat_sources"]["value"] is None and status.get("satellite") in ("ok", "partial"):
        sheet["heat_sources"].update(value=counts.get("heat_source", 0), status="measured")
    if provided is not None:
        for name, key in NEEDS_INPUT.items():
            e = sheet.get(name)
            if e is not None and e["value"] in (None, 0) and key not in provided and not any(f.kind == name.split(".")[-1] for f in findings):
                e.update(value=None, status="not_provided")
    order = {s: i for i, s in enumerate(SECTIONS)}
    items = sorted(sheet.items(), key=lambda kv: order.get(kv[1]["section"], len(order)))  # stable within a section
    return dict(items)


def _class_area(ind: Mapping[str, Any], zone: str, period: str, cls: str) -> tuple[float | None, float | None]:
    """(area, ci95) of a land-cover class in a zone from the landcover diagnostic's ``areas_by_class_*``."""
    table = ind.get(f"areas_by_class_{zone}_{period}")
    if not isinstance(table, Mapping) or not isinstance(table.get(cls), Mapping):
        return None, None
    e = table[cls]
    if e.get("area_ha") is not None:  # error-adjusted (Olofsson et al. 2014) when an accuracy sample exists
        return float(e["area_ha"]), (None if e.get("ci95_ha") is None else float(e["ci95_ha"]))
    return (None if e.get("mapped_ha") is None else float(e["mapped_ha"])), None


def _derive_landcover(sheet: dict[str, dict[str, Any]], ind: Mapping[str, Any]) -> None:
    """Fill the core land-cover indicators from the class-area tables of the landcover diagnostic."""

    def put(name: str, value: float | None, ci: float | None = None) -> None:
        if value is None or sheet[name]["status"] == "measured":
            return
        sheet[name].update(value=round(value, 2), status="measured", diagnostic="landcover")
        if ci is not None:
            sheet[name]["ci95"] = round(ci, 2)

    ins, ins_ci = _class_area(ind, "approved", "after", "built_up")
    out, out_ci = _class_area(ind, "outside_approved", "after", "built_up")
    put("built_up_inside_approved_ha", ins, ins_ci)
    put("built_up_outside_approved_ha", out, out_ci)
    before = [_class_area(ind, z, "before", "built_up")[0] for z in ("approved", "outside_approved")]
    if None not in before and ins is not None and out is not None:
        put("built_up_change_ha", ins + out - sum(before))
    crop_b = [_class_area(ind, z, "before", "cropland")[0] for z in ("approved", "outside_approved")]
    crop_a = [_class_area(ind, z, "after", "cropland")[0] for z in ("approved", "outside_approved")]
    if None not in crop_b and None not in crop_a:
        put("farmland_loss_ha", max(0.0, sum(crop_b) - sum(crop_a)))


def coverage_table(
    coverage: Mapping[str, Mapping[str, Any]],
    labels: Mapping[str, Mapping[str, str]],
) -> list[dict[str, Any]]:
    """Rows of the data-coverage table: diagnostic, label, status, inputs, dates, cloud, detail."""
    rows = []
    for name, cov in coverage.items():
        dates = cov.get("dates") or ()
        if isinstance(dates, str):
            dates = (dates,)
        rows.append({
            "diagnostic": name, "label": dict(labels.get(name, {"en": name, "zh": name})),
            "status": cov.get("status", "ok"), "inputs": list(cov.get("inputs", ())),
            "dates": [str(d) for d in dates], "cloud": _clean(cov.get("cloud")), "detail": str(cov.get("detail", "") or ""),
            "detail_zh": str(cov.get("detail_zh") or cov.get("detail", "") or ""),
        })
    return rows
