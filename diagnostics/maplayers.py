"""Turn a screening (park, enterprises, findings, route) into :mod:`parkscan.maps.layers` objects.

The base layers are built here — approved boundary (``kind="approved"``), managed boundary
(``managed``), sub-parks (``subpark``), enterprises (``enterprises``, coloured by industry, popup
with name/industry/score/rank), findings (``findings``, coloured by kind, popup with the
evidence) and the suggested site-visit route — and the layers each diagnostic returned are
appended after them. Names are plain text: the map renderer escapes them.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from shapely.geometry import LineString, mapping

from parkscan.maps.layers import VectorLayer

__all__ = ["base_layers", "screening_layers", "LAYER_NAMES"]

LAYER_NAMES = {
    "approved": {"en": "Approved boundary", "zh": "批复边界"},
    "managed": {"en": "Managed boundary", "zh": "实际管理边界"},
    "subpark": {"en": "Sub-parks", "zh": "子园区"},
    "enterprises": {"en": "Enterprises", "zh": "企业"},
    "findings": {"en": "Findings", "zh": "发现"},
    "route": {"en": "Suggested visit route", "zh": "建议核查路线"},
}
_F = {
    "name": {"en": "Name", "zh": "名称"}, "enterprise_id": {"en": "Id", "zh": "编号"},
    "industry": {"en": "Industry", "zh": "行业"}, "score": {"en": "Score", "zh": "得分"},
    "rank": {"en": "Rank", "zh": "排名"}, "confidence": {"en": "Confidence", "zh": "置信度"},
    "visit_order": {"en": "Visit order", "zh": "核查顺序"}, "reasons": {"en": "Reasons", "zh": "理由"},
    "explain": {"en": "Explanation", "zh": "说明"}, "evidence": {"en": "Evidence", "zh": "证据"},
    "area_ha": {"en": "Area (ha)", "zh": "面积（公顷）"}, "subpark": {"en": "Sub-park", "zh": "子园区"},
    "length_m": {"en": "Length (m)", "zh": "长度（米）"},
}


def _lab(key: str, lang: str) -> str:
    return _F[key].get(lang, _F[key]["en"])


def _fc(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _clean(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return v.item() if hasattr(v, "item") and callable(v.item) else v


def base_layers(park, *, ranking: Sequence[Any] = (), findings: Sequence[Any] = (), route: dict | None = None,
                lang: str = "en") -> list[VectorLayer]:
    """The park's boundaries, enterprises (with score and rank), findings and the visit route.

    Parameters
    ----------
    park : Park
        The park (with enterprises attached, or not).
    ranking : sequence of RankedItem
        Gives score, rank and reasons to the enterprise popups.
    findings : sequence of Finding
        Findings to show (popups with their evidence).
    route : dict, optional
        ``{"start": [lon, lat], "order": [ids]}`` from the site-visit list.
    lang : str
        Language of layer names and popup labels.
    """
    L = {k: v.get(lang, v["en"]) for k, v in LAYER_NAMES.items()}
    areas = park.area_ha()
    layers = [VectorLayer(
        name=L["approved"], kind="approved",
        features=_fc([{"type": "Feature", "geometry": mapping(park.approved),
                       "properties": {"name": park.name, "area_ha": round(areas["approved"], 1)}}]),
        popup_fields=(("name", _lab("name", lang)), ("area_ha", _lab("area_ha", lang))),
    )]
    if park.managed is not None:
        layers.append(VectorLayer(
            name=L["managed"], kind="managed",
            features=_fc([{"type": "Feature", "geometry": mapping(park.managed),
                           "properties": {"name": park.name, "area_ha": round(areas["managed"], 1)}}]),
            popup_fields=(("name", _lab("name", lang)), ("area_ha", _lab("area_ha", lang))),
        ))
    if park.subparks:
        feats = [{"type": "Feature", "geometry": mapping(s.geometry),
                  "properties": {"subpark": s.name, "name": s.name, "role": s.role,
                                 "area_ha": round(park.to_local(s.geometry).area / 1e4, 1)}} for s in park.subparks]
        layers.append(VectorLayer(name=L["subpark"], kind="subpark", features=_fc(feats),
                                  popup_fields=(("subpark", _lab("subpark", lang)), ("area_ha", _lab("area_ha", lang)))))
    by_id = {it.item_id: it for it in ranking if it.item_type == "enterprise"}
    names: dict[str, str] = {}
    ent = park.enterprises
    if ent is not None and len(ent):
        feats = []
        inds = ent["industry"] if "industry" in ent.columns else [None] * len(ent)
        for eid, name, ind, lon, lat in zip(ent["enterprise_id"], ent["name"], inds, ent["lon"], ent["lat"]):
            eid = str(eid)
            it = by_id.get(eid)
            names[eid] = "" if name is None else str(name)
            feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
                          "properties": {"enterprise_id": eid, "name": names[eid], "industry": _clean(ind) or "",
                                         "score": None if it is None else round(it.score, 3),
                                         "confidence": None if it is None else round(it.confidence, 2),
                                         "rank": None if it is None else it.rank,
                                         "reasons": "" if it is None or it.score <= 0 else "; ".join(it.reasons.get(lang, ()))}})
        layers.append(VectorLayer(
            name=L["enterprises"], kind="enterprises", features=_fc(feats), color_by="industry",
            popup_fields=tuple((k, _lab(k, lang)) for k in ("name", "enterprise_id", "industry", "score", "confidence", "rank", "reasons")),
        ))
    if findings:
        feats = []
        for f in findings:
            feat = f.to_feature()
            props = feat["properties"]
            props["label"] = f.label(lang)
            props["score"] = round(f.score, 3)
            if f.enterprise_id is not None and str(f.enterprise_id) in names:
                props["enterprise_name"] = names[str(f.enterprise_id)]
            feats.append(feat)
        layers.append(VectorLayer(name=L["findings"], kind="findings", features=_fc(feats), color_by="kind",
                                  popup_fields=(("score", _lab("score", lang)),)))
    if route and route.get("order"):
        pos = {it.item_id: (it.lon, it.lat) for it in ranking}
        coords = [tuple(route["start"])] + [pos[i] for i in route["order"] if i in pos]
        if len(coords) >= 2:
            layers.append(VectorLayer(
                name=L["route"], kind="generic", show=False,
                features=_fc([{"type": "Feature", "geometry": mapping(LineString(coords)),
                               "properties": {"name": L["route"], "length_m": route.get("length_m")}}]),
                style={"color": "#333333", "weight": 2, "dashArray": "6 4", "fillOpacity": 0},
                popup_fields=(("name", _lab("name", lang)), ("length_m", _lab("length_m", lang))),
            ))
    return layers


def screening_layers(screening, *, lang: str | None = None) -> list[Any]:
    """All layers of a screening: the base layers, then every diagnostic's own layers."""
    lang = lang or screening.lang
    return base_layers(screening.park, ranking=screening.ranking, findings=screening.findings, route=screening.route,
                       lang=lang) + list(screening.layers)
