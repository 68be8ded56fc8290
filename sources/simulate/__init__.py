"""parkscan.sources.simulate: a seeded, documented park scenario generator with known truth.

``simulate(out_dir, seed=42, preset="typical")`` writes a park boundary, an enterprise list, two Sentinel-2
L2A-like images, 走航 mobile-monitoring CSV files, Sentinel-5P NO2-like netCDF files, a Landsat ST_B10-like land
surface temperature GeoTIFF, a FIRMS VIIRS CSV, ``scenario.json`` (the ``screen()`` inputs) and ``truth.json``.
"""
from __future__ import annotations

from .api import SCENARIO_FILE, TRUTH_FILE, Scenario, load_scenario, simulate
from .presets import PRESETS, Preset, get_preset

__all__ = ["PRESETS", "Preset", "SCENARIO_FILE", "TRUTH_FILE", "Scenario", "get_preset", "load_scenario", "simulate"]
