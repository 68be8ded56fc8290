"""Tiny hand-made parks, enterprise tables and a fake diagnostic for the screening tests."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from parkscan.aoi import Park
from parkscan.diagnostics import registry
from parkscan.diagnostics.findings import Finding, finding_id
from parkscan.diagnostics.registry import DiagnosticResult, InputItem

HOSTILE = {
    "E1": "<script>alert(1)</script>",
    "E2": '"><img src=x onerror=alert(2)>',
    "E3": '=HYPERLINK("http://x","y")',
    "E4": "+cmd|calc!A0",
    "E5": "@SUM(1+1)",
    "E6": "-2+3",
    "E7": "\tTAB",
}
"""The hostile names of ../shared/checks/hostile-names (plus a few more)."""

PARK_BOX = (113.30, 23.10, 113.34, 23.13)


def make_enterprises(names: dict[str, str], lons, lats, industries=None) -> gpd.GeoDataFrame:
    inds = industries or ["化工"] * len(names)
    return gpd.GeoDataFrame(
        {"enterprise_id": list(names), "name": list(names.values()), "industry": inds, "lon": list(lons), "lat": list(lats)},
        geometry=[Point(x, y) for x, y in zip(lons, lats)], crs="EPSG:4326")


@pytest.fixture
def park() -> Park:
    """A 4 km × 3 km park in Guangzhou, no managed boundary, no enterprises."""
    return Park(id="P1", name="测试园区", approved=box(*PARK_BOX))


@pytest.fixture
def hostile_park(park) -> Park:
    lons = [113.305, 113.315, 113.325, 113.332, 113.338, 113.31, 113.32]
    lats = [23.105, 23.112, 23.118, 23.122, 23.127, 23.125, 23.102]
    return park.with_enterprises(make_enterprises(HOSTILE, lons, lats))


@pytest.fixture
def fake_diagnostic():
    """Register diagnostics for one test; yields a function ``add(name, inputs, func)``."""
    added: list[str] = []

    def add(name, inputs, func, order=50):
        registry.register(name, inputs=inputs, order=order, label={"en": name.title(), "zh": f"{name}诊断"})(func)
        added.append(name)

    registry._load_builtin()
    yield add
    for n in added:
        registry._REGISTRY.pop(n, None)


def hotspot_diag(points, *, kind="mobile_hotspot", named=None, severity=0.8, confidence=0.7):
    """A diagnostic returning one finding per (lon, lat) point (optionally named enterprises)."""

    def run(park, ctx, **inputs):
        fs = []
        for i, (lon, lat) in enumerate(points):
            eid = named[i] if named else None
            fs.append(Finding(id=finding_id(kind, i, lon, lat), kind=kind, severity=severity, confidence=confidence,
                              geometry=Point(lon, lat), enterprise_id=eid,
                              evidence={"peak_ppb": 120.5 + i, "background_ppb": 20.0, "passes": 3},
                              sources=("mobile-1",), explain={"en": f"Peak {120.5 + i:.0f} ppb downwind.", "zh": f"下风向峰值 {120.5 + i:.0f} ppb。"}))
        given = [v for v in inputs.values() if v]
        return DiagnosticResult(name="fake", findings=fs, indicators={"mobile_hotspots": len(fs), "peak_max_ppb": {"value": 130.0, "unit": "ppb"}},
                                inputs=[InputItem(id="mobile-1", uri=str(given[0][0]) if given and isinstance(given[0], list) else "mem", kind="mobile")],
                                coverage={"status": "ok", "dates": ["2024-05-01"], "detail": "fake"},
                                methods={"en": "Fake method.", "zh": "假方法。"},
                                limitations=[{"en": "Fake limitation.", "zh": "假局限。"}],
                                attributions=["Contains fake data 2024"])

    return run


def write_park_geojson(path: Path, bbox=PARK_BOX, name="测试园区") -> Path:
    x0, y0, x1, y1 = bbox
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": name, "role": "approved"},
          "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}}]}
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    return path


class _Helpers:
    """Helpers handed to tests as a fixture (tests cannot import conftest in importlib mode)."""

    HOSTILE = HOSTILE
    PARK_BOX = PARK_BOX
    make_enterprises = staticmethod(make_enterprises)
    hotspot_diag = staticmethod(hotspot_diag)
    write_park_geojson = staticmethod(write_park_geojson)


@pytest.fixture(scope="session")
def h() -> _Helpers:
    return _Helpers()
