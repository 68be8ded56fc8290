"""Shared cartographic style: colours for boundaries, finding kinds, industries, and labels in en/zh."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from parkscan.aoi.vocab import FINDING_KINDS

__all__ = [
    "BOUNDARY_STYLE", "KIND_COLORS", "KIND_LABELS", "CATEGORY_PALETTE", "TEXT",
    "layer_style", "category_colors", "kind_label", "text",
]

#: Default path style per VectorLayer.kind (overridden by ``VectorLayer.style``).
BOUNDARY_STYLE: dict[str, dict[str, Any]] = {
    "approved": {"color": "#d62728", "weight": 3, "fill": True, "fillColor": "#d62728", "fillOpacity": 0.06},
    "managed": {"color": "#1f77b4", "weight": 2.5, "dashArray": "8 6", "fill": True, "fillColor": "#1f77b4", "fillOpacity": 0.04},
    "subpark": {"color": "#9467bd", "weight": 1.5, "dashArray": "3 4", "fill": True, "fillColor": "#9467bd", "fillOpacity": 0.03},
    "enterprises": {"color": "#333333", "weight": 1, "fillOpacity": 0.9, "radius": 5},
    "findings": {"color": "#000000", "weight": 1.5, "fillOpacity": 0.55, "radius": 8},
    "segments": {"color": "#e31a1c", "weight": 7, "opacity": 0.85},
    "heat_sources": {"color": "#7f0000", "weight": 1.5, "fillColor": "#ff7f00", "fillOpacity": 0.9, "radius": 7},
    "generic": {"color": "#3388ff", "weight": 2, "fillOpacity": 0.2, "radius": 6},
}

#: Colour per finding kind (same kinds as parkscan.diagnostics.findings.KINDS).
KIND_COLORS: dict[str, str] = {
    "built_up_outside_approved": "#d62728",
    "farmland_loss": "#bcbd22",
    "bare_soil": "#8c564b",
    "landcover_change": "#e377c2",
    "mobile_hotspot": "#ff7f0e",
    "no2_enhancement": "#9467bd",
    "so2_enhancement": "#17becf",
    "thermal_anomaly": "#ff0000",
    "heat_source": "#7f0000",
    "boundary_confusion": "#7f7f7f",
}

KIND_LABELS = FINDING_KINDS

#: Qualitative palette for categories (industries, ...), colour-blind-friendlier ordering of Tableau 10.
CATEGORY_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]

TEXT: dict[str, dict[str, str]] = {
    "legend": {"en": "Legend", "zh": "图例"},
    "approved": {"en": "Approved boundary", "zh": "批复边界"},
    "managed": {"en": "Managed boundary", "zh": "管理边界"},
    "subpark": {"en": "Sub-park", "zh": "分园区"},
    "enterprises": {"en": "Enterprises", "zh": "企业"},
    "findings": {"en": "Findings", "zh": "问题线索"},
    "segments": {"en": "Hotspot segments", "zh": "高值路段"},
    "heat_sources": {"en": "Heat sources", "zh": "热源"},
    "other": {"en": "Other", "zh": "其他"},
    "unknown": {"en": "Unknown", "zh": "未知"},
    "kind": {"en": "Kind", "zh": "类型"},
    "severity": {"en": "Severity", "zh": "严重程度"},
    "confidence": {"en": "Confidence", "zh": "置信度"},
    "enterprise": {"en": "Enterprise", "zh": "企业"},
    "evidence": {"en": "Evidence", "zh": "证据"},
    "sources": {"en": "Data", "zh": "数据"},
    "before": {"en": "Before", "zh": "变化前"},
    "after": {"en": "After", "zh": "变化后"},
    "compare": {"en": "Compare before / after", "zh": "前后对比"},
    "date": {"en": "Date", "zh": "日期"},
    "scale": {"en": "Scale", "zh": "比例尺"},
    "data": {"en": "Data", "zh": "数据来源"},
    "made_with": {"en": "Map: parkscan", "zh": "制图：parkscan"},
    "industry": {"en": "Industry", "zh": "行业"},
    "name": {"en": "Name", "zh": "名称"},
}


def text(key: str, lang: str = "en") -> str:
    """A UI label in ``lang`` (falls back to English, then to the key)."""
    entry = TEXT.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["en"]


def kind_label(kind: str, lang: str = "en") -> str:
    """Label of a finding kind."""
    entry = KIND_LABELS.get(kind)
    return (entry.get(lang) or entry["en"]) if entry else str(kind)


def layer_style(kind: str, style: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Default style for a layer kind updated with the layer's own style."""
    out = dict(BOUNDARY_STYLE.get(kind, BOUNDARY_STYLE["generic"]))
    out.update(dict(style or {}))
    return out


def category_colors(values: Iterable[Any], *, kind: str = "generic", given: Mapping[str, str] | None = None) -> dict[str, str]:
    """A stable category → colour mapping (finding kinds use :data:`KIND_COLORS`).

    ``given`` (e.g. the layer's legend read as label → colour) wins where it names a category.
    """
    cats = sorted({"" if v is None else str(v) for v in values})
    out: dict[str, str] = {}
    i = 0
    for c in cats:
        if given and c in given:
            out[c] = given[c]
        elif c in KIND_COLORS:
            out[c] = KIND_COLORS[c]
        elif c == "":
            out[c] = "#999999"
        else:
            out[c] = CATEGORY_PALETTE[i % len(CATEGORY_PALETTE)]
            i += 1
    return out
