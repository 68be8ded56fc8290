"""Findings, methods and limitation texts of the land-cover diagnostic (split from landcover.py)."""
from __future__ import annotations

import numpy as np

from .findings import Finding, finding_id

__all__ = ["_change_findings", "_farmland_findings", "_methods", "_limitations", "_area_table"]


def _farmland_findings(park, maps, farm, approved, transform, crs, acc, srcs, dates, mmu_ha, px_ha, source_name):
    """Registered farmland now mapped built-up or bare soil: findings and indicators.

    The farmland layer is taken as the authority (it is the legal record), so the interval comes from the
    after map's accuracy only: P(really built-up | mapped built-up) for each patch.
    """
    from parkscan.models.landcover.change import apply_mmu, change_polygons
    from parkscan.models.landcover.classes import CLASS_CODES, CLASS_LABELS

    from .landcover import MAX_FINDINGS_PER_KIND, _state_ci

    bu, bare, crop = CLASS_CODES["built_up"], CLASS_CODES["bare_soil"], CLASS_CODES["cropland"]
    after = maps["after"]
    occupied = farm & np.isin(after, (bu, bare))
    codes = apply_mmu(np.where(occupied, crop * 10 + after, 0).astype(np.int32), max(1, int(np.ceil(mmu_ha / px_ha))))
    extra = {}
    if "before" in maps:
        extra["new_fraction"] = (~np.isin(maps["before"], (bu, bare))).astype("float32")
    polys = change_polygons(codes, transform, crs, extra=extra)
    ind = {"farmland_registered_ha": round(float(farm.sum() * px_ha), 2),
           "farmland_registered_approved_ha": round(float((farm & approved).sum() * px_ha), 2),
           "farmland_built_or_bare_ha": round(float(polys["area_ha"].sum()) if len(polys) else 0.0, 2),
           "farmland_source": source_name}
    out: list[Finding] = []
    if len(polys):
        polys = polys.sort_values("area_ha", ascending=False)
    approved_local = park.to_local(park.approved)
    for _, row in polys.head(MAX_FINDINGS_PER_KIND).iterrows():
        to = row["to"]
        ci = _state_ci(float(row.area_ha), CLASS_CODES[to], acc)
        new = float(row["new_fraction"]) if "new_fraction" in row and np.isfinite(row["new_fraction"]) else None
        geom = park.to_wgs84(row.geometry)
        inside = float(row.geometry.intersection(approved_local).area / row.geometry.area) if row.geometry.area else 0.0
        ev = {"area_ha": round(float(row.area_ha), 2), "area_adjusted_ha": ci["adjusted_ha"], "ci95_ha": ci["ci95_ha"],
              "p_correct": ci["p_correct"], "from": "cropland", "to": to, "farmland_source": source_name,
              "inside_approved_fraction": round(inside, 3), "new_since_before_fraction": None if new is None else round(new, 3),
              "before_dates": dates.get("before", []), "after_dates": dates.get("after", [])}
        sev = min(1.0, 0.45 + float(row.area_ha) / 6.0 + (0.15 if to == "built_up" else 0.0) + (0.1 if new and new > 0.5 else 0.0))
        conf = float(np.clip(ci["p_correct"] if ci["p_correct"] is not None else 0.3, 0.05, 0.99))
        t_en, t_zh = CLASS_LABELS[to]["en"].lower(), CLASS_LABELS[to]["zh"]
        ci_en = f" (±{ci['ci95_ha']:.1f} ha, 95% CI)" if ci["ci95_ha"] is not None else ""
        ci_zh = f"（95%置信区间 ±{ci['ci95_ha']:.1f} 公顷）" if ci["ci95_ha"] is not None else ""
        new_en = new_zh = ""
        if new is not None:
            new_en = ", new since the before period" if new > 0.5 else ", already so in the before period"
            new_zh = "，为前期之后新增" if new > 0.5 else "，前期已如此"
        out.append(Finding(
            id=finding_id("farmland_loss", park.id, round(geom.centroid.x, 5), round(geom.centroid.y, 5), "farmland", to),
            kind="farmland_loss", severity=float(sev), confidence=conf, geometry=geom, evidence=ev, sources=srcs,
            explain={"en": f"{row.area_ha:.1f} ha of registered farmland ({source_name}) is now {t_en}{ci_en}{new_en}.",
                     "zh": f"登记耕地（{source_name}）中 {row.area_ha:.1f} 公顷现为{t_zh}{ci_zh}{new_zh}。"}))
    return out, ind


def _change_findings(park, polys, approved, managed, transform, acc, srcs, dates, change_ci, lang, *,
                     farmland_layer: bool = False) -> list[Finding]:
    from parkscan.models.landcover.classes import CLASS_CODES

    from .landcover import MAX_FINDINGS_PER_KIND, _explain

    out: list[Finding] = []
    counts = {"built_up_outside_approved": 0, "farmland_loss": 0, "landcover_change": 0}
    approved_local = park.to_local(park.approved)
    managed_local = park.to_local(park.managed) if park.managed is not None else None
    for _, row in polys.iterrows():
        frm, to = row["from"], row["to"]
        geom_l = row.geometry
        frac_out = 1.0 - (geom_l.intersection(approved_local).area / geom_l.area if geom_l.area else 0.0)
        in_managed = bool(managed_local is not None and geom_l.intersection(managed_local).area > 0.5 * geom_l.area)
        if to == "built_up" and frac_out > 0.5:
            kind = "built_up_outside_approved"
        elif frm == "cropland" and not farmland_layer:  # with a registered-farmland layer, that layer decides
            kind = "farmland_loss"
        elif approved_local.intersects(geom_l) or (managed_local is not None and managed_local.intersects(geom_l)):
            kind = "landcover_change"
        else:
            continue  # changes in the ring that are neither new built-up nor farmland loss
        if counts[kind] >= MAX_FINDINGS_PER_KIND:
            continue
        counts[kind] += 1
        event = {"built_up_outside_approved": "to", "farmland_loss": "from"}.get(kind, "any")
        ci = change_ci(row.area_ha, CLASS_CODES[frm], CLASS_CODES[to], acc, event=event)
        geom = park.to_wgs84(geom_l)
        ev = {"area_ha": round(float(row.area_ha), 2), "area_adjusted_ha": ci["adjusted_ha"], "ci95_ha": ci["ci95_ha"],
              "p_correct": ci["p_correct"], "from": frm, "to": to, "outside_approved_fraction": round(frac_out, 3),
              "inside_managed": in_managed, "before_dates": dates.get("before", []), "after_dates": dates.get("after", []),
              "dNDVI": None if not np.isfinite(row.get("dNDVI", np.nan)) else round(float(row["dNDVI"]), 3),
              "dNDBI": None if not np.isfinite(row.get("dNDBI", np.nan)) else round(float(row["dNDBI"]), 3)}
        sev = min(1.0, 0.35 + float(row.area_ha) / 8.0)
        if kind == "built_up_outside_approved" and not in_managed:
            sev = min(1.0, sev + 0.2)
        extra_en = extra_zh = ""
        if kind == "built_up_outside_approved":
            extra_en = ", outside the approved boundary" + (" but inside the managed one" if in_managed else " and outside the managed one")
            extra_zh = "，位于批复边界外" + ("、托管边界内" if in_managed else "、托管边界外")
        conf = ci["p_correct"] if ci["p_correct"] is not None else 0.3
        conf = float(np.clip(conf * (1.0 if abs(ev["dNDVI"] or 0) > 0.1 else 0.8), 0.05, 0.99))
        out.append(Finding(id=finding_id(kind, park.id, round(geom.centroid.x, 5), round(geom.centroid.y, 5), frm, to), kind=kind,
                           severity=float(sev), confidence=conf, geometry=geom, evidence=ev, sources=srcs,
                           explain=_explain(kind, float(row.area_ha), ci["ci95_ha"], frm, to, extra_en, extra_zh)))
    return out


def _methods(method: dict, acc, mmu_ha: float, farmland: str | None = None) -> dict[str, str]:
    if method.get("method") == "model":
        how_en = f"a trained machine-learning model ({method.get('detail')})"
        how_zh = f"训练好的机器学习模型（{method.get('detail')}）"
    else:
        how_en = "fixed spectral-index rules (NDVI, MNDWI, NDBI; no labels were given)"
        how_zh = "固定的光谱指数规则（NDVI、MNDWI、NDBI；未提供样本）"
    acc_en = acc_zh = ""
    if acc is not None:
        oa = float(np.trace(acc.counts) / acc.counts.sum()) if acc.counts.sum() else float("nan")
        acc_en = f" Its accuracy was measured by {acc.source}: overall accuracy {oa:.2f} on {int(acc.counts.sum())} reference pixels."
        acc_zh = f"精度评估：{acc.source}，总体精度 {oa:.2f}（{int(acc.counts.sum())} 个参考像元）。"
    en = (f"Sentinel-2 L2A reflectance (scene-classification cloud mask applied) was classified into built-up, cropland, "
          f"vegetation, water and bare soil with {how_en}.{acc_en} Change is the post-classification comparison of the two "
          f"periods, kept where the NDVI or NDBI difference exceeds its Otsu threshold, with a minimum mapping unit of {mmu_ha:g} ha. "
          "Areas are error-adjusted with the confusion matrix (Olofsson et al. 2014 estimator for class areas; for change "
          "patches the probability, from the two map classes' rows of the matrix, that the claimed change is real) and given with 95% confidence intervals.")
    zh = (f"对 Sentinel-2 L2A 反射率（已按场景分类去云）用{how_zh}分为建设用地、耕地、植被、水体和裸土。{acc_zh}"
          f"变化为两期分类结果比较，并要求 NDVI 或 NDBI 差值超过 Otsu 自动阈值，最小制图单元 {mmu_ha:g} 公顷。"
          "面积依据混淆矩阵进行误差校正（类别面积用 Olofsson 等 2014 的分层估计；变化图斑用两期混淆矩阵行估计变化为真的概率），并给出 95% 置信区间。")
    if farmland:
        en += (f" Farmland loss is read against the registered farmland layer {farmland}: farmland pixels mapped built-up or "
               "bare soil in the after period, the layer taken as given and the interval from the after map's accuracy.")
        zh += f"耕地占用依据登记耕地图层 {farmland} 判定：后期分类为建设用地或裸土的耕地像元，图层视为准确，置信区间来自后期分类精度。"
    return {"en": en, "zh": zh}


def _limitations(method: dict, acc) -> list[dict[str, str]]:
    out = [{"en": "Confidence intervals come from a confusion matrix that is not a probability sample of this park; they are "
                  "indicative. Draw a stratified reference sample with `parkscan landcover sample` and score it with "
                  "`parkscan landcover assess` for design-based areas.",
            "zh": "置信区间基于非本园区概率抽样的混淆矩阵，仅供参考；可用 `parkscan landcover sample` 抽取分层样本并用 "
                  "`parkscan landcover assess` 评估，得到基于设计的面积估计。"},
           {"en": "Change-patch intervals cover false detections only; change that was missed is not estimated.",
            "zh": "变化图斑的置信区间只考虑误检，未估计漏检的变化。"}]
    if method.get("method") == "rules":
        out.append({"en": "Without labels the index rules cannot separate summer cropland from other vegetation on a single date, "
                          "and bare soil from some roofs; provide a trained model (`parkscan landcover train`) for better maps.",
                    "zh": "无样本时指数规则无法在单一时相区分夏季耕地与其他植被，也难以区分裸土与部分屋顶；可用 "
                          "`parkscan landcover train` 训练模型以提高精度。"})
        out.append({"en": "The rules' accuracy for built-up, water and bare soil was measured on simulated scenes (real labels "
                          "for those classes were not available), so those intervals are optimistic.",
                    "zh": "规则法对建设用地、水体和裸土的精度是在模拟场景上测得的（缺少这些类别的真实样本），相应置信区间偏乐观。"})
    if acc is None:
        out.append({"en": "No accuracy figures are available for this classifier, so areas carry no interval.",
                    "zh": "该分类器没有精度评估，面积没有置信区间。"})
    return out


def _area_table(ind: dict):
    import pandas as pd

    rows = []
    for key, val in ind.items():
        if key.startswith("areas_by_class_") and isinstance(val, dict):
            zone_period = key[len("areas_by_class_"):]
            zone, period = zone_period.rsplit("_", 1)
            for cls, d in val.items():
                rows.append({"zone": zone, "period": period, "class": cls, **d})
    return pd.DataFrame(rows)
