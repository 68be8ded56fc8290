"""parkscan.models.mobile: background, peaks, road segments, Gi* hotspots, upwind attribution, ML (LUR, NMF)
and the campaign planner for mobile-monitoring (走航) runs."""
from __future__ import annotations

from .analysis import MobileAnalysis, analyse
from .attribution import FINGERPRINTS, industry_key
from .background import background
from .hotspots import gi_star
from .peaks import find_peaks
from .segments import build_segments

__all__ = ["FINGERPRINTS", "MobileAnalysis", "analyse", "background", "build_segments", "find_peaks", "gi_star", "industry_key"]
