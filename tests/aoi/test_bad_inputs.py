"""Every bad park input gives one AOIError line naming the file (and feature) and what to do."""
from __future__ import annotations

import json

import pytest

from parkscan.aoi import AOIError, read_park
from parkscan.aoi.errors import ParkscanError
from parkscan.aoi.options import set_options

from .conftest import RING, feature


def poly(path, coords, **props):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature([coords], **props)]}))
    return path


CASES = {
    # name: (writer, expected message fragment)
    "empty.geojson": (lambda p: p.write_text('{"type":"FeatureCollection","features":[]}'), "no features"),
    "swapped.geojson": (lambda p: poly(p, [[y, x] for x, y in RING]), r"look like \(lat, lon\)"),
    "zeroarea.geojson": (lambda p: poly(p, [[120.60, 31.30], [120.61, 31.30], [120.62, 31.30], [120.60, 31.30]]),
                         "zero area"),
    "huge.geojson": (lambda p: poly(p, [[100, 25], [120, 25], [120, 40], [100, 40], [100, 25]]), "more than a park"),
    "garbage.geojson": (lambda p: p.write_text("this is not a boundary"), "cannot read as a geographic file"),
    "binary.gpkg": (lambda p: p.write_bytes(b"\x00\x01\x02"), "cannot read|binary"),
    "broken.wkt": (lambda p: p.write_text("POLYGON((120.6 31.3, 120.63 31.3\n"), "not valid WKT"),
    "junk.wkt": (lambda p: p.write_text("hello world\n"), "not WKT"),
    "projected_no_crs.geojson": (lambda p: poly(p, [[500000, 3460000], [503000, 3460000], [503000, 3463000],
                                                    [500000, 3463000], [500000, 3460000]]), "look projected"),
    "line.geojson": (lambda p: p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "路"}, "geometry": {"type": "LineString",
                                                                        "coordinates": RING}}]})), "not a polygon"),
    "nullgeom.geojson": (lambda p: p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": None}]})), "empty"),
    "emptyfile.geojson": (lambda p: p.write_text(""), "file is empty"),
    "bad.kml": (lambda p: p.write_text("<kml><Document><Placemark>"), "not valid KML"),
    "bad.zip": (lambda p: p.write_bytes(b"PK\x03\x04junk"), "not a valid zip|cannot read"),
    "latitude116.wkt": (lambda p: p.write_text("POLYGON((31.30 116.60, 31.33 116.60, 31.33 116.63, 31.30 116.60))"),
                        r"\(lat, lon\)"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_one_clear_line(tmp_path, name):
    writer, frag = CASES[name]
    path = tmp_path / name
    writer(path)
    with pytest.raises(AOIError, match=frag) as ei:
        read_park(path)
    msg = str(ei.value)
    assert isinstance(ei.value, ParkscanError)
    assert "\n" not in msg and str(path) in msg and len(msg) < 400
    assert ei.value.__traceback__ is not None


def test_missing_file(tmp_path):
    with pytest.raises(AOIError, match="file not found"):
        read_park(tmp_path / "nope.geojson")


def test_swapped_but_in_range_detected(tmp_path):
    # a Xinjiang park given as (lat, lon): (43.8, 87.6) is a valid lon/lat in the Arctic, but lat/lon in China
    ring = [[43.80, 87.60], [43.80, 87.63], [43.83, 87.63], [43.83, 87.60], [43.80, 87.60]]
    with pytest.raises(AOIError, match=r"\(lat, lon\)"):
        read_park(poly(tmp_path / "xj.geojson", ring))


def test_feature_index_and_name_in_message(tmp_path):
    p = tmp_path / "two.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature([RING], name="好"), feature([[[120.6, 31.3], [120.61, 31.3], [120.62, 31.3], [120.6, 31.3]]], name="坏")]},
        ensure_ascii=False), encoding="utf-8")
    with pytest.raises(AOIError, match=r"two.geojson, feature 2 \(坏\): the polygon has zero area"):
        read_park(p)


def test_gcj02_far_outside_china(tmp_path):
    ring = [[2.30, 48.80], [2.33, 48.80], [2.33, 48.83], [2.30, 48.83], [2.30, 48.80]]  # Paris
    p = poly(tmp_path / "paris.geojson", ring)
    with pytest.raises(AOIError, match="far outside mainland China but the datum is gcj02"):
        read_park(p, datum="gcj02")
    assert read_park(p).area_ha()["approved"] > 0  # fine in WGS-84


def test_size_limit_follows_option(tmp_path):
    p = poly(tmp_path / "p.geojson", RING)
    with set_options(max_park_km2=5):
        with pytest.raises(AOIError, match="limit 5 km"):
            read_park(p)
    read_park(p)


def test_gcj02_in_hong_kong_is_accepted_unshifted(tmp_path):
    ring = [[114.16, 22.30], [114.18, 22.30], [114.18, 22.32], [114.16, 22.32], [114.16, 22.30]]  # Kowloon
    park = read_park(poly(tmp_path / "hk.geojson", ring), datum="gcj02")
    assert park.approved.bounds == pytest.approx((114.16, 22.30, 114.18, 22.32))


def test_lonlat_values_with_a_projected_crs(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Polygon

    f = tmp_path / "wrongprj.gpkg"
    gpd.GeoDataFrame({"geometry": [Polygon(RING)]}, crs=32651).to_file(f, driver="GPKG")
    with pytest.raises(AOIError, match=r"look like lon/lat degrees \(e.g. 120.6000, 31.3000\) but the file declares the projected CRS"):
        read_park(f)


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600), st.sampled_from([".geojson", ".gpkg", ".kml", ".kmz", ".wkt", ".zip", ".shp", ".csv", ""]))
def test_random_bytes_never_crash(tmp_path, data, suffix):
    from parkscan.aoi import read_enterprises, read_parks

    p = tmp_path / f"fuzz{suffix}"
    p.write_bytes(data)
    for fn in (read_park, read_parks, read_enterprises):
        try:
            fn(p)
        except AOIError as err:
            assert "\n" not in str(err)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_random_text_as_wkt_or_geojson_never_crash(tmp_path, text):
    for name in ("t.wkt", "t.geojson"):
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        try:
            read_park(p)
        except AOIError as err:
            assert "\n" not in str(err)
