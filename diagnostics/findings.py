"""Findings: one suspicious thing each, with its evidence."""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from parkscan.aoi.vocab import FINDING_KINDS

__all__ = ["Finding", "KINDS", "finding_id"]

KINDS = FINDING_KINDS
"""Known finding kinds with their English and Chinese labels (from :mod:`parkscan.aoi.vocab`)."""


def finding_id(kind: str, *parts: Any) -> str:
    """A deterministic id from the kind and identifying parts (same inputs → same id)."""
    h = hashlib.sha1(json.dumps([kind, *parts], sort_keys=True, default=str).encode()).hexdigest()[:10]
    return f"{kind}-{h}"


def _jsonable(v: Any) -> Any:
    if isinstance(v, float):
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if hasattr(v, "item") and callable(v.item):  # numpy scalar
        return _jsonable(v.item())
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def _rounded(geom):
    """``geom`` on a 1e-7° grid (~1 cm), valid. Snapping a polygonized raster patch with a hole that touches its
    shell can defeat GEOS's overlay ("unable to assign free hole to a shell"): then the geometry is made valid
    first, and as a last resort the coordinates are rounded one by one (pointwise) and made valid again."""
    try:
        return shapely.set_precision(geom, 1e-7)
    except shapely.errors.GEOSException:
        pass
    try:
        return shapely.set_precision(shapely.make_valid(geom), 1e-7)
    except shapely.errors.GEOSException:
        return shapely.make_valid(shapely.set_precision(geom, 1e-7, mode="pointwise"))


@dataclass(frozen=True, eq=False)
class Finding:
    """One suspicious thing in a park.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> f = Finding(id="x", kind="heat_source", severity=0.8, confidence=0.6, geometry=Point(120.6, 31.3),
    ...             explain={"en": "Fire detections on 12 dates.", "zh": "12 天有火点。"})
    >>> f.to_feature()["properties"]["kind"]
    'heat_source'
    """

    id: str
    """Stable id (see :func:`finding_id`)."""
    kind: str
    """One of :data:`KINDS`."""
    severity: float
    """How bad it would be if true, 0–1."""
    confidence: float
    """How sure the evidence makes us, 0–1."""
    geometry: BaseGeometry
    """Where, in WGS-84."""
    enterprise_id: str | None = None
    """The enterprise it is attributed to, when one is."""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    """Numbers and the data they came from (values with units, p-values, dates, ...)."""
    sources: tuple[str, ...] = ()
    """Dataset ids in the manifest."""
    explain: Mapping[str, str] = field(default_factory=dict)
    """One sentence each in ``en`` and ``zh``."""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}; known: {sorted(KINDS)}")
        for name in ("severity", "confidence"):
            v = getattr(self, name)
            if not (0.0 <= float(v) <= 1.0):
                raise ValueError(f"Finding.{name} must be within 0–1, got {v}")

    @property
    def score(self) -> float:
        """severity × confidence, the weight of this finding in a ranking."""
        return float(self.severity) * float(self.confidence)

    def label(self, lang: str = "en") -> str:
        """Human label of the kind."""
        return KINDS[self.kind].get(lang, KINDS[self.kind]["en"])

    def to_feature(self) -> dict[str, Any]:
        """A GeoJSON Feature (WGS-84); properties are the Finding fields."""
        return {
            "type": "Feature",
            "id": self.id,
            "geometry": mapping(_rounded(self.geometry)) if not self.geometry.is_empty else None,
            "properties": {
                "id": self.id,
                "kind": self.kind,
                "severity": round(float(self.severity), 4),
                "confidence": round(float(self.confidence), 4),
                "enterprise_id": self.enterprise_id,
                "evidence": _jsonable(dict(self.evidence)),
                "sources": list(self.sources),
                "explain_en": self.explain.get("en", ""),
                "explain_zh": self.explain.get("zh", ""),
            },
        }
