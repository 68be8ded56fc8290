"""Plain layer descriptions that diagnostics hands to the map renderers.

Maps never import diagnostics: everything a map shows arrives as one of these.
All coordinates are WGS-84.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["VectorLayer", "TrackLayer", "RasterLayer", "Layer"]


@dataclass(frozen=True, eq=False)
class VectorLayer:
    """GeoJSON features (boundaries, enterprises, findings, segments, heat sources)."""

    name: str
    """Layer name shown in the layer control (already in the report language)."""
    features: Mapping[str, Any]
    """A GeoJSON FeatureCollection in WGS-84."""
    kind: str = "generic"
    """``approved``, ``managed``, ``subpark``, ``enterprises``, ``findings``, ``segments``, ``heat_sources``, ``generic``."""
    style: Mapping[str, Any] = field(default_factory=dict)
    """Leaflet path options (color, weight, dashArray, fillOpacity, ...)."""
    popup_fields: Sequence[tuple[str, str]] = ()
    """(property, label) pairs shown in the popup; values are escaped when rendered."""
    color_by: str | None = None
    """Property that picks the colour (e.g. ``industry``, ``kind``, a numeric value)."""
    show: bool = True
    """Visible when the map opens."""
    legend: Mapping[str, str] = field(default_factory=dict)
    """Legend entries: label → colour."""


@dataclass(frozen=True, eq=False)
class TrackLayer:
    """A mobile-monitoring track coloured by concentration."""

    name: str
    """Layer name."""
    lon: np.ndarray
    """Longitudes (WGS-84)."""
    lat: np.ndarray
    """Latitudes (WGS-84)."""
    values: np.ndarray
    """Concentrations (NaN where missing or flagged)."""
    unit: str = ""
    """Unit for the colour bar."""
    pollutant: str = ""
    """Pollutant name for the colour bar caption."""
    show: bool = True
    """Visible when the map opens."""


@dataclass(frozen=True, eq=False)
class RasterLayer:
    """A georeferenced image overlay (land-cover change, LST, NO2, before/after imagery)."""

    name: str
    """Layer name."""
    image: np.ndarray
    """RGBA uint8 array (height, width, 4), north-up in WGS-84 (reproject before handing over)."""
    bounds: tuple[tuple[float, float], tuple[float, float]]
    """((south, west), (north, east))."""
    opacity: float = 0.7
    """Overlay opacity."""
    legend: Mapping[str, str] = field(default_factory=dict)
    """Legend entries: label → colour."""
    time: str | None = None
    """ISO date for multi-date layers (before/after, time control)."""
    show: bool = False
    """Visible when the map opens."""
    group: str | None = None
    """Layers sharing a group (e.g. ``before_after``) can be compared side by side."""


Layer = VectorLayer | TrackLayer | RasterLayer
