"""The ``landcover`` diagnostic: land cover in two periods, change, and what it means for the park.

Findings: ``built_up_outside_approved`` (new built-up outside the approved boundary, with whether it lies in
the managed one), ``farmland_loss`` (cropland → another class; with a registered-farmland layer,
``params["landcover_farmland"]``, farmland parcels now mapped built-up or bare soil), ``bare_soil`` (exposed soil after), and
``landcover_change`` (other transitions in the park). Each carries the mapped area, the error-adjusted area
± 95 % CI and before/after evidence. Indicators: built-up share inside and outside the approved boundary
(before, after, change) and areas by class.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from parkscan.aoi.digest import sha256_file

from .findings import Finding, finding_id
from .registry import DiagnosticResult, InputItem, register

__all__ = ["run"]

log = logging.getLogger(__name__)

MAX_FINDINGS_PER_KIND = 15


def _state_ci(area_ha: float, code: int, acc) -> dict:
    """Area of a patch mapped as ``code`` in one period, scaled by that class's user's accuracy, ± 95 % CI."""

    none = {"area_ha": float(area_ha), "adjusted_ha": None, "ci95_ha": None, "p_correct": None}
    if acc is None or code not in acc.classes:
        return none
    u, n = acc.users()[code]
    if not n:
        return none
    se = float(np.sqrt(u * (1 - u) / max(n - 1, 1)))
    return {"area_ha": float(area_ha), "adjusted_ha": float(area_ha * u), "ci95_ha": float(1.959964 * area_ha * se), "p_correct": float(u)}


def _mask(geom, park, shape, transform) -> np.ndarray:
    from rasterio.features import geometry_mask

    if geom is None or geom.is_empty:
        return np.zeros(shape, bool)
    return geometry_mask([park.to_local(geom)], out_shape=shape, transform=transform, invert=True)


def _inputs(ds, kind_id: str, period: str | None) -> list[InputItem]:
    items = []
    clouds = ds.attrs.get("cloud_fraction") or []
    for i, f in enumerate(ds.attrs.get("files", [])):
        p = Path(f)
        items.append(InputItem(
            id=f"{kind_id}-{i + 1}", uri=str(f), kind="imagery", sha256=sha256_file(p) if p.is_file() else None,
            size=p.stat().st_size if p.is_file() else None, dates=(ds.attrs["dates"][i],) if i < len(ds.attrs.get("dates", [])) else (),
            extra={"period": period, "cloud_fraction": clouds[i] if i < len(clouds) else None}))
    return items


def _explain(kind: str, area: float, ci: float | None, frm: str, to: str, extra_en: str = "", extra_zh: str = "") -> dict:
    from parkscan.models.landcover.classes import CLASS_LABELS

    ci_en = f" (±{ci:.1f} ha, 95% CI)" if ci is not None else ""
    ci_zh = f"（95%置信区间 ±{ci:.1f} 公顷）" if ci is not None else ""
    f_en, t_en = CLASS_LABELS.get(frm, {}).get("en", frm), CLASS_LABELS.get(to, {}).get("en", to)
    f_zh, t_zh = CLASS_LABELS.get(frm, {}).get("zh", frm), CLASS_LABELS.get(to, {}).get("zh", to)
    if kind == "bare_soil":
        return {"en": f"{area:.1f} ha of exposed bare soil{ci_en}{extra_en}.", "zh": f"裸露土地 {area:.1f} 公顷{ci_zh}{extra_zh}。"}
    return {"en": f"{area:.1f} ha changed from {f_en.lower()} to {t_en.lower()}{ci_en}{extra_en}.",
            "zh": f"{area:.1f} 公顷由{f_zh}变为{t_zh}{ci_zh}{extra_zh}。"}


@register("landcover", inputs=("imagery", "before", "after"), order=40,
          label={"en": "Land cover and change", "zh": "土地覆盖与变化"})
def run(park, ctx, *, imagery=None, before=None, after=None) -> DiagnosticResult:
    """Classify the before and after periods, detect change and report findings with area ± CI."""
    from parkscan.aoi.errors import DiagnosticsError, SourceError
    from parkscan.models.landcover.analysis import change_ci, classify_dataset, model_accuracy, zone_areas
    from parkscan.models.landcover.change import apply_mmu, change_polygons, detect_change
    from parkscan.models.landcover.classes import CLASS_CODES
    from parkscan.models.landcover.indices import compute_indices
    from parkscan.models.landcover.model import load_model
    from parkscan.sources.imagery import open_imagery

    from ._landcover_layers import class_layer, change_layer, truecolour_layers

    res = DiagnosticResult(name="landcover")
    if imagery is None:
        res.coverage = {"status": "missing", "detail": "no imagery given"}
        return res
    params = dict(ctx.params or {})
    model = load_model(params["landcover_model"]) if params.get("landcover_model") else None
    mmu_ha = float(params.get("landcover_mmu_ha", 0.5))
    ring_m = params.get("ring_m")
    ctx.report("land cover: reading imagery", 0.05)
    if before and not after:  # only a before period: everything acquired after it is "after"
        from datetime import timedelta

        from parkscan.sources.imagery import parse_period

        after = f"{parse_period(before)[1] + timedelta(days=1)}/2100-12-31"
    periods = [("before", before), ("after", after)] if before else [("after", after)]
    data, skipped = {}, None
    for name, period in periods:
        try:
            data[name] = open_imagery(imagery, park, period=period, ring_m=ring_m)
        except SourceError as err:
            if name == "before" and "no image acquired" in str(err):
                skipped = f"no image in the before period {period}; change was not assessed"
                log.warning("land cover: %s", skipped)
                continue
            raise DiagnosticsError(f"land cover, {name} period {period}: {err}") from err
        res.inputs += _inputs(data[name], f"imagery-{name}", period)
    after_ds = data["after"]
    if model is None and params.get("landcover_reference"):
        # train on the fly from the user's reference raster (WorldCover / Dynamic World export, ...) over the after period
        from parkscan.models.landcover.training import labels_from_raster, train_from_dataset

        ctx.report("land cover: training on the reference raster", 0.2)
        ref = params["landcover_reference"]
        labels = labels_from_raster(ref, after_ds, schema=str(params.get("landcover_schema", "worldcover")))
        model = train_from_dataset(after_ds, labels, seed=ctx.seed, description=f"random forest trained on {Path(ref).name}")
        p = Path(ref)
        res.inputs.append(InputItem(id="landcover-reference", uri=str(ref), kind="reference", sha256=sha256_file(p),
                                    size=p.stat().st_size, extra={"schema": params.get("landcover_schema", "worldcover")}))
    if "before" in data and (data["before"].rio.shape != after_ds.rio.shape
                             or data["before"].rio.transform() != after_ds.rio.transform()):
        data["before"] = data["before"].rio.reproject_match(after_ds)  # different grids: align on the after grid
    transform, crs = after_ds.rio.transform(), after_ds.rio.crs
    shape = (after_ds.sizes["y"], after_ds.sizes["x"])
    px_ha = abs(transform.a * transform.e) / 1e4
    acc = model_accuracy(model)
    ctx.report("land cover: classifying", 0.3)
    maps, method = {}, {}
    for name, ds in data.items():
        maps[name], method = classify_dataset(ds, model)
    idx = {n: {k: np.nanmedian(np.asarray(v.values), axis=0) for k, v in compute_indices(ds, ["NDVI", "NDBI"]).items()}
           for n, ds in data.items()}
    approved = _mask(park.approved, park, shape, transform)
    managed = _mask(park.managed, park, shape, transform) if park.managed is not None else np.zeros(shape, bool)
    valid = maps["after"] > 0
    outside = valid & ~approved
    srcs = tuple(i.id for i in res.inputs)
    dates = {n: ds.attrs.get("dates", []) for n, ds in data.items()}
    bu = CLASS_CODES["built_up"]

    def share(m, zone):
        z = zone & (m > 0)
        return float((m[z] == bu).mean()) if z.any() else None

    ind = {}
    for n, m in maps.items():
        ind[f"built_up_share_approved_{n}"] = share(m, approved)
        ind[f"built_up_share_outside_approved_{n}"] = share(m, outside)
        ind[f"areas_by_class_approved_{n}"] = zone_areas(m, approved & (m > 0), px_ha, acc)
        ind[f"areas_by_class_outside_approved_{n}"] = zone_areas(m, outside & (m > 0), px_ha, acc)
    if "before" in maps:
        for z in ("approved", "outside_approved"):
            a, b = ind[f"built_up_share_{z}_after"], ind[f"built_up_share_{z}_before"]
            ind[f"built_up_share_{z}_change"] = None if a is None or b is None else a - b
    findings: list[Finding] = []
    farm_path = params.get("landcover_farmland")
    if farm_path:
        from parkscan.models.landcover.training import farmland_mask

        codes = params.get("landcover_farmland_codes") or None
        farm = farmland_mask(farm_path, after_ds, codes=codes)
        fp = Path(farm_path)
        res.inputs.append(InputItem(id="farmland", uri=str(farm_path), kind="farmland", sha256=sha256_file(fp) if fp.is_file() else None,
                                    size=fp.stat().st_size if fp.is_file() else None, extra={"codes": list(codes) if codes else None}))
        srcs = tuple(i.id for i in res.inputs)
        fnd, find = _farmland_findings(park, maps, farm, approved, transform, crs, acc, srcs, dates, mmu_ha, px_ha, fp.name)
        findings += fnd
        ind.update(find)
    if "before" in maps:
        ctx.report("land cover: change detection", 0.6)
        ch = detect_change(maps["before"], maps["after"], idx["before"], idx["after"], transform, crs, mmu_ha=mmu_ha)
        polys = ch.polygons
        ind["change_index_thresholds"] = {k: round(v, 4) for k, v in ch.thresholds.items()}
        ind["changed_area_ha"] = float(polys["area_ha"].sum()) if len(polys) else 0.0
        res.layers.append(change_layer(ch.codes, transform, crs, ctx.lang))
        findings += _change_findings(park, polys, approved, managed, transform, acc, srcs, dates, change_ci, ctx.lang,
                                     farmland_layer=bool(farm_path))
    # bare soil after (state, not change), MMU-filtered, inside the footprint and ring
    bare = apply_mmu(np.where(maps["after"] == CLASS_CODES["bare_soil"], 66, 0), max(1, int(np.ceil(mmu_ha / px_ha))))
    bpolys = change_polygons(bare, transform, crs)
    bare_findings = []
    for _, row in bpolys.head(MAX_FINDINGS_PER_KIND).iterrows():
        ci = _state_ci(row.area_ha, CLASS_CODES["bare_soil"], acc)
        geom = park.to_wgs84(row.geometry)
        inside = bool(park.approved.intersects(geom))
        bare_findings.append(Finding(
            id=finding_id("bare_soil", park.id, round(geom.centroid.x, 5), round(geom.centroid.y, 5)), kind="bare_soil",
            severity=float(min(1.0, 0.3 + row.area_ha / 10)), confidence=float(ci["p_correct"] ** 0.5 if ci["p_correct"] else 0.4),
            geometry=geom, evidence={"area_ha": round(row.area_ha, 2), "area_adjusted_ha": ci["adjusted_ha"], "ci95_ha": ci["ci95_ha"],
                                     "inside_approved": inside, "after_dates": dates["after"], "method": method["method"]},
            sources=srcs, explain=_explain("bare_soil", row.area_ha, ci["ci95_ha"], "", "")))
    findings += bare_findings
    res.findings = findings
    res.indicators = ind
    for n, m in maps.items():
        res.layers.append(class_layer(m, transform, crs, n, dates[n], ctx.lang))
    res.layers += truecolour_layers(data, transform, crs, ctx.lang)
    years = sorted({d[:4] for ds in data.values() for d in ds.attrs.get("dates", [])})
    simulated = any(ds.attrs.get("SIMULATED") for ds in data.values())
    sentinel = any(str(ds.attrs.get("SPACECRAFT_NAME", "")).startswith("Sentinel") or "B8A" in ds.data_vars
                   for ds in data.values())  # red-edge bands: Sentinel-2
    res.attributions = ([f"Contains modified Copernicus Sentinel data {y}" for y in years] if sentinel else
                        [f"Optical imagery: {Path(str(imagery)).name} ({', '.join(years)})"]) + (
        ["Simulated imagery (parkscan.sources.simulate), not real Copernicus data"] if simulated else [])
    all_dates = [d for v in dates.values() for d in v]
    cl = [c for ds in data.values() for c in (ds.attrs.get("cloud_fraction") or []) if c is not None]
    res.coverage = {"status": "ok" if "before" in data else "partial", "dates": all_dates,
                    "cloud": round(float(np.mean(cl)), 4) if cl else None,
                    "detail": "two periods" if "before" in data else (skipped or "one period only (no change detection)")}
    res.methods = _methods(method, acc, mmu_ha, Path(farm_path).name if farm_path else None)
    res.limitations = _limitations(method, acc)
    if farm_path and not ind.get("farmland_registered_ha"):
        name = Path(farm_path).name
        log.warning("land cover: the farmland layer %s has no farmland in the park window", name)
        res.limitations.append({
            "en": f"The farmland layer {name} has no farmland inside the park and its ring: check its extent and CRS "
                  "(or --farmland-codes for a raster); farmland loss was not assessed against it.",
            "zh": f"耕地图层 {name} 在园区及缓冲区内没有耕地：请检查其范围和坐标系（栅格请检查 --farmland-codes）；未据此评估耕地占用。"})
    res.tables["landcover_areas"] = _area_table(ind)
    ctx.report("land cover: done", 1.0)
    return res


from ._landcover_text import _area_table, _change_findings, _farmland_findings, _limitations, _methods  # noqa: E402
