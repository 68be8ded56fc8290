"""parkscan.sources.mobile: reading mobile-monitoring (走航) files — CSV/XLSX/GPX, Chinese and English headers,
units, GPS + instrument joins, datums, platform pulls — into a cleaned, flagged :class:`MobileRun`."""
from __future__ import annotations

from .clean import REASONS
from .headers import ALIASES, POLLUTANTS, MappingFile, map_columns, read_mapping
from .ingest import FileInfo, MobileRun, parse_time, read_mobile
from .platform import fetch_platform
from .units import convert as convert_units

__all__ = ["ALIASES", "POLLUTANTS", "REASONS", "FileInfo", "MappingFile", "MobileRun", "convert_units", "fetch_platform",
           "map_columns", "parse_time", "read_mapping", "read_mobile"]
