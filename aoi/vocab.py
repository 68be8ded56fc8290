"""Shared vocabulary at the bottom of the stack: finding kinds and their labels in English and Chinese.

Diagnostics (which makes findings) and maps (which draws them) both read it from here, so the
two never drift apart and maps need not import diagnostics.
"""
from __future__ import annotations

__all__ = ["FINDING_KINDS"]

FINDING_KINDS: dict[str, dict[str, str]] = {
    "built_up_outside_approved": {"en": "Built-up outside the approved boundary", "zh": "批复边界外新增建设"},
    "farmland_loss": {"en": "Farmland loss", "zh": "耕地减少"},
    "bare_soil": {"en": "Exposed bare soil", "zh": "裸露土地"},
    "landcover_change": {"en": "Land-cover change", "zh": "土地覆盖变化"},
    "mobile_hotspot": {"en": "Mobile-monitoring hotspot", "zh": "走航监测高值点"},
    "no2_enhancement": {"en": "NO₂ enhancement", "zh": "NO₂ 浓度增强"},
    "so2_enhancement": {"en": "SO₂ enhancement", "zh": "SO₂ 浓度增强"},
    "thermal_anomaly": {"en": "Thermal anomaly", "zh": "热异常"},
    "heat_source": {"en": "Persistent heat source", "zh": "持续热源"},
    "boundary_confusion": {"en": "Boundary confusion", "zh": "边界不清"},
}
"""Known finding kinds with their English and Chinese labels."""
