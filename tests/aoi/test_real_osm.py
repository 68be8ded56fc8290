"""Real data: OSM landuse=industrial polygons (Kouvola, Finland; © OpenStreetMap contributors, ODbL 1.0).

The extract is ../shared/data/osm-industrial-kouvola/pyrosm_test.osm.pbf (see SOURCES.md, section 12).
Not China: it checks real, messy polygons (malformed rings, self-intersections) and the datum guard.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import pyogrio
import pytest
import shapely

from parkscan.aoi import AOIError, Park, boundary_indicators, read_park, read_parks
from parkscan.aoi.errors import GeometryRepairedWarning
from parkscan.aoi.validate import geodesic_area_m2, polygonal

PBF = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "osm-industrial-kouvola" / "pyrosm_test.osm.pbf"


@pytest.fixture(scope="module")
def industrial_gpkg(tmp_path_factory):
    if not PBF.exists():
        pytest.skip(f"real data {PBF} is absent")
    df = pyogrio.read_dataframe(PBF, layer="multipolygons", where="landuse='industrial'", on_invalid="fix")
    df["id"] = "W" + df["osm_way_id"].astype(str)
    out = tmp_path_factory.mktemp("osm") / "kouvola_industrial.gpkg"
    df[["id", "landuse", "geometry"]].to_file(out, driver="GPKG")
    return out, df


def test_each_industrial_area_is_a_park(industrial_gpkg):
    path, df = industrial_gpkg
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeometryRepairedWarning)
        out = read_parks(path)
    assert len(out) == len(df) == 10
    parks = [p for _, p in out if isinstance(p, Park)]
    # way 369836478 has a 2-node ring in this clipped extract: reported, the others are parks
    errors = {pid: e for pid, e in out if isinstance(e, AOIError)}
    assert list(errors) == ["W369836478"] and "feature 2: the geometry is empty" in str(errors["W369836478"])
    assert len(parks) == 9
    for (pid, park), geom in zip(out, df.geometry):
        if pid in errors:
            continue
        assert pid.startswith("W") and park.metadata["landuse"] == "industrial"
        # areas agree with the geodesic area of the (repaired) source polygons to 0.5 %
        assert park.area_ha()["approved"] * 1e4 == pytest.approx(geodesic_area_m2(polygonal(shapely.make_valid(geom))), rel=5e-3)
        assert park.crs.to_epsg() == 32635  # UTM 35N for 27 E
    assert boundary_indicators(parks[0])["approved_ha"] > 0


def test_finland_in_gcj02_is_rejected(industrial_gpkg):
    path, _ = industrial_gpkg
    with pytest.raises(AOIError, match="far outside mainland China but the datum is gcj02"):
        read_park(path, datum="gcj02")


def test_malformed_ring_is_repaired_with_warning(tmp_path):
    f = tmp_path / "deg.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
        "type": "MultiPolygon", "coordinates": [[[[120.60, 31.30], [120.63, 31.30], [120.63, 31.33], [120.60, 31.33],
                                                  [120.60, 31.30]]], [[[120.7, 31.3], [120.71, 31.3]]]]}}]}))
    with pytest.warns(GeometryRepairedWarning):
        park = read_park(f)
    assert park.area_ha()["approved"] == pytest.approx(950, rel=0.01)
