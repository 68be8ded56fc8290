"""parkscan.models.mobile: background, peaks, road segments, Gi* hotspots, upwind attribution, ML (LUR, NMF)
and the campaign planner for mobile-monitoring (走航) runs."""
from __future__ import annotations

from .analysis import MobileAnalysis, analyse
from .attribution import FINGERPRINTS, industry_key
from .background import background
from .hotspots import gi_star
from .ml import lur_cv, lur_dataset, nmf_apportion
from .peaks import find_peaks
from .planner import plan_passes, plan_with_simulator
from .segments import build_segments

__all__ = ["FINGERPRINTS", "MobileAnalysis", "analyse", "background", "build_segments", "find_peaks", "gi_star", "industry_key",
           "lur_cv", "lur_dataset", "nmf_apportion", "plan_passes", "plan_with_simulator"]
