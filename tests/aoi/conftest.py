"""Tiny builders for boundary and enterprise files (all synthetic, written to tmp_path)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

# a ~3 km square park in Suzhou Industrial Park (WGS-84)
RING = [[120.60, 31.30], [120.63, 31.30], [120.63, 31.33], [120.60, 31.33], [120.60, 31.30]]


def square(x0: float, y0: float, dx: float = 0.03, dy: float = 0.03) -> list:
    return [[x0, y0], [x0 + dx, y0], [x0 + dx, y0 + dy], [x0, y0 + dy], [x0, y0]]


def feature(rings, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": rings}}


def write_fc(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    return path


@pytest.fixture
def fc(tmp_path):
    """``fc(name, features)`` writes a GeoJSON FeatureCollection into tmp_path."""
    return lambda name, features: write_fc(tmp_path / name, features)
