"""Unusable user files for `parkscan mobile` (--roads, --mapping) are one-line errors naming the file, not tracebacks."""
from __future__ import annotations

import geopandas as gpd
import pyproj
import pytest
from shapely.geometry import Point

from parkscan.aoi.errors import ModelError
from parkscan.models.mobile.segments import seeds_from_roads

UTM51 = pyproj.CRS.from_epsg(32651)


def test_unreadable_road_file(tmp_path):
    bad = tmp_path / "roads.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="roads.geojson: cannot read the road file"):
        seeds_from_roads(bad, UTM51)


def test_road_file_without_lines(tmp_path):
    pts = tmp_path / "points.geojson"
    gpd.GeoDataFrame(geometry=[Point(120.6, 31.3)], crs=4326).to_file(pts)
    with pytest.raises(ModelError, match="points.geojson: holds no"):
        seeds_from_roads(pts, UTM51)


def test_mapping_json_with_a_list_of_columns(tmp_path):
    import json

    from parkscan.aoi.errors import SourceError
    from parkscan.sources.mobile.headers import read_mapping

    m = tmp_path / "m.json"
    m.write_text(json.dumps({"columns": ["时间", "经度"]}), encoding="utf-8")
    with pytest.raises(SourceError, match="'columns' must be a JSON object"):
        read_mapping(m)
