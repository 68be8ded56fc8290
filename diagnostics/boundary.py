"""The built-in boundary diagnostic: approved vs managed boundary, sub-parks, enterprises outside.

Registered as ``boundary`` with no inputs, so it runs on every screening. It needs only the
park: the approved (批复) boundary, the managed (实际管理/托管) boundary when given, the
sub-parks, and the enterprise list when attached.

Findings (kind ``boundary_confusion``):

- the managed area outside the approved boundary, when larger than ``min_outside_ha`` (1 ha)
  and ``min_outside_frac`` (1 %) of the approved area — severity ``0.2 + 2 × fraction`` (capped at 1);
- each enterprise located more than ``tolerance_m`` (30 m, for geocoding error) outside the
  approved boundary — severity 0.4 when it lies inside the managed boundary (a known
  administrative stretch), else 0.6 rising to 1.0 at 2 km; confidence rises from 0.5 at the
  tolerance to 0.95 at 500 m (a point just outside may be a geocoding error).
"""
from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import shapely

from .findings import Finding, finding_id
from .registry import DiagnosticResult, register

__all__ = ["run", "boundary_indicators", "DEFAULTS"]

log = logging.getLogger(__name__)

DEFAULTS: dict[str, float] = {"tolerance_m": 30.0, "min_outside_ha": 1.0, "min_outside_frac": 0.01}
"""Thresholds; override with ``params={"boundary": {...}}``."""


def _polys(geom):
    """Polygonal part of a geometry (drop slivers' lines/points after a difference)."""
    if geom.is_empty:
        return geom
    parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def boundary_indicators(park) -> dict[str, Any]:
    """Boundary-confusion indicators for the indicator sheet (areas in ha, distances in km).

    The numbers come from :func:`parkscan.aoi.boundary_indicators`; those that need a managed
    boundary or an enterprise list are marked ``not_provided`` when it was not given.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from parkscan.aoi import Park
    >>> ind = boundary_indicators(Park(id="p", name="p", approved=box(120.60, 31.30, 120.63, 31.33)))
    >>> ind["managed_ha"]["status"], ind["n_subparks"]
    ('not_provided', 0)
    """
    from parkscan.aoi import boundary_indicators as aoi_indicators

    raw = aoi_indicators(park)
    units = {"_ha": "ha", "_pct": "%", "_km": "km"}
    ind: dict[str, Any] = {}
    for k, v in raw.items():
        if k in ("enterprises_outside_approved_ids", "approximate", "enterprises_outside_approved"):
            continue  # ids are in the findings; the outside count is computed with a tolerance below
        unit = next((u for suf, u in units.items() if k.endswith(suf)), "")
        if v is None:
            ind[k] = {"value": None, "unit": unit, "status": "not_provided"}
        elif isinstance(v, float):
            ind[k] = {"value": round(v, 2) if math.isfinite(v) else None, "unit": unit}
        else:
            ind[k] = {"value": v, "unit": unit}
    return ind


def _enterprise_findings(park, a_loc, m_loc, tol: float) -> tuple[list[Finding], dict[str, Any]]:
    ent = park.enterprises
    out: list[Finding] = []
    na = {"value": None, "unit": "", "status": "not_provided"}
    ind: dict[str, Any] = {"enterprises": dict(na), "enterprises_outside_approved": dict(na), "enterprises_outside_managed": dict(na)}
    if ent is None or len(ent) == 0:
        return out, ind
    x, y = park.lonlat_to_xy(ent["lon"].to_numpy(float), ent["lat"].to_numpy(float))
    pts = shapely.points(x, y)
    d_app = shapely.distance(pts, a_loc)
    inside_m = shapely.intersects(pts, m_loc) if m_loc is not None else np.zeros(len(pts), bool)
    outside = d_app > tol
    ind["enterprises"] = int(len(ent))
    ind["enterprises_outside_approved"] = int(outside.sum())
    ind["enterprises_outside_managed"] = dict(na) if m_loc is None else int((shapely.distance(pts, m_loc) > tol).sum())
    inds = ent["industry"] if "industry" in ent.columns else [None] * len(ent)
    for i in np.flatnonzero(outside):
        eid, name, d = str(ent["enterprise_id"].iloc[i]), str(ent["name"].iloc[i]), float(d_app[i])
        in_m = bool(inside_m[i])
        sev = 0.4 if in_m else min(1.0, 0.6 + 0.4 * d / 2000.0)
        conf = float(np.clip(0.5 + 0.45 * (d - tol) / max(500.0 - tol, 1.0), 0.5, 0.95))
        where_en = "inside the managed boundary" if in_m else "outside both boundaries" if m_loc is not None else "outside it"
        where_zh = "位于实际管理范围内" if in_m else "亦不在实际管理范围内" if m_loc is not None else ""
        out.append(Finding(
            id=finding_id("boundary_confusion", "enterprise", eid),
            kind="boundary_confusion", severity=sev, confidence=conf,
            geometry=shapely.Point(float(ent["lon"].iloc[i]), float(ent["lat"].iloc[i])),
            enterprise_id=eid,
            evidence={"distance_outside_approved_m": round(d, 1), "inside_managed": in_m if m_loc is not None else None,
                      "industry": None if inds[i] is None else str(inds[i]), "tolerance_m": tol},
            sources=("boundary", "enterprises"),
            explain={"en": f"Enterprise {name} lies {d:,.0f} m outside the approved boundary, {where_en}.".replace(", .", "."),
                     "zh": f"企业 {name} 位于批复边界外 {d:,.0f} 米{('，' + where_zh) if where_zh else ''}。"},
        ))
    return out, ind


@register("boundary", inputs=(), order=10, label={"en": "Boundaries", "zh": "边界"})
def run(park, ctx, **_: Any) -> DiagnosticResult:
    """Boundary-confusion indicators and findings (see the module docstring)."""
    p = {**DEFAULTS, **dict(ctx.params.get("boundary", {}) if ctx.params else {})}
    ctx.report("boundary indicators", 0.0)
    ind = boundary_indicators(park)
    a_loc = park.to_local(park.approved)
    m_loc = park.to_local(park.managed) if park.managed is not None else None
    findings: list[Finding] = []
    if m_loc is not None:
        stray = _polys(m_loc.difference(a_loc))
        ha = stray.area / 1e4
        frac = stray.area / a_loc.area if a_loc.area else 0.0
        if ha >= p["min_outside_ha"] and frac >= p["min_outside_frac"]:
            findings.append(Finding(
                id=finding_id("boundary_confusion", "managed_outside", park.id),
                kind="boundary_confusion", severity=min(1.0, 0.2 + 2.0 * frac), confidence=0.9,
                geometry=park.to_wgs84(stray),
                evidence={"managed_outside_approved_ha": round(ha, 2), "fraction_of_approved": round(frac, 4),
                          "approved_ha": round(a_loc.area / 1e4, 2), "managed_ha": round(m_loc.area / 1e4, 2)},
                sources=("boundary",),
                explain={"en": f"The managed area extends {ha:,.1f} ha ({100 * frac:.1f} % of the approved area) beyond the approved boundary.",
                         "zh": f"实际管理范围超出批复边界 {ha:,.1f} 公顷（占批复面积的 {100 * frac:.1f}%）。"},
            ))
    ent_findings, ent_ind = _enterprise_findings(park, a_loc, m_loc, float(p["tolerance_m"]))
    findings += ent_findings
    ind.update(ent_ind)
    has_ent = park.enterprises is not None and len(park.enterprises) > 0
    missing = [w for w, ok in (("managed boundary", m_loc is not None), ("enterprise list", has_ent)) if not ok]
    zh_missing = {"managed boundary": "实际管理边界", "enterprise list": "企业名录"}
    cov = {"status": "ok" if not missing else "partial",
           "detail": "approved boundary" + ("" if m_loc is None else ", managed boundary") + (f", {len(park.enterprises)} enterprises" if has_ent else "")
           + (f"; not given: {', '.join(missing)}" if missing else ""),
           "detail_zh": "批复边界" + ("" if m_loc is None else "、实际管理边界") + (f"、{len(park.enterprises)} 家企业" if has_ent else "")
           + (f"；未提供：{'、'.join(zh_missing[m] for m in missing)}" if missing else "")}
    lims = [{"en": "Boundaries are taken as given; a managed boundary digitised from a web map may be off by tens of metres.",
             "zh": "边界按输入文件使用；从网络地图数字化的管理边界可能有数十米误差。"},
            {"en": f"Enterprises within {p['tolerance_m']:.0f} m of the approved boundary are treated as inside (geocoding error).",
             "zh": f"距批复边界 {p['tolerance_m']:.0f} 米以内的企业视为在边界内（地理编码误差）。"}]
    if m_loc is None:
        lims.append({"en": "No managed boundary was given: managed vs approved area was not assessed.",
                     "zh": "未提供实际管理边界：未评估管理范围与批复范围的差异。"})
    return DiagnosticResult(
        name="boundary", findings=findings, indicators=ind, coverage=cov,
        methods={"en": "Approved and managed boundaries were compared in the park's local UTM projection (areas in hectares); "
                       "enterprise coordinates were tested against the approved boundary with a geocoding tolerance.",
                 "zh": "在园区所在 UTM 投影下比较批复边界与实际管理边界（面积以公顷计）；按地理编码容差检查企业坐标是否位于批复边界内。"},
        limitations=lims,
    )
