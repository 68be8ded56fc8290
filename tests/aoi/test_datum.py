"""Datum conversion: round trips (Hypothesis), shift magnitudes, the outside-China rule."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkscan.aoi import AOIError
from parkscan.aoi.datum import convert, in_mainland_china, normalize_datum, shift_m

M_PER_DEG = 111_320.0

# points well inside mainland China (east and centre; away from the outline)
inland_lon = st.floats(min_value=102.0, max_value=118.0, allow_nan=False)
inland_lat = st.floats(min_value=24.5, max_value=40.0, allow_nan=False)


def dist_m(x0, y0, x1, y1):
    return np.hypot((np.asarray(x1) - x0) * M_PER_DEG * np.cos(np.radians(y0)), (np.asarray(y1) - y0) * 110_540.0)


@settings(max_examples=150, deadline=None)
@given(inland_lon, inland_lat, st.sampled_from(["gcj02", "bd09"]))
def test_round_trip_within_1cm(lon, lat, d):
    x, y = convert(lon, lat, "wgs84", d)
    shift = dist_m(lon, lat, x, y)
    assert 100 < shift < 1500 if d == "bd09" else 100 < shift < 700
    bx, by = convert(x, y, d, "wgs84")
    assert dist_m(lon, lat, bx, by) <= 0.01
    assert abs(bx - lon) < 1e-8 and abs(by - lat) < 1e-8


@settings(max_examples=60, deadline=None)
@given(inland_lon, inland_lat)
def test_gcj_bd_chain_consistent(lon, lat):
    g = convert(lon, lat, "wgs84", "gcj02")
    b1 = convert(*g, "gcj02", "bd09")
    b2 = convert(lon, lat, "wgs84", "bd09")
    assert dist_m(b1[0], b1[1], *b2) < 1e-3
    back = convert(*b1, "bd09", "gcj02")
    assert dist_m(g[0], g[1], *back) <= 0.01


def test_known_value_beijing():
    # Tiananmen: the published GCJ-02 algorithm gives a shift of ~+0.00624 lon, +0.0014 lat here
    x, y = convert(116.397, 39.909, "wgs84", "gcj02")
    assert x - 116.397 == pytest.approx(0.00624, abs=2e-5)
    assert y - 39.909 == pytest.approx(0.00140, abs=2e-5)
    # BD-09 adds Baidu's offset of roughly +0.0065/+0.006 deg
    bx, by = convert(116.397, 39.909, "wgs84", "bd09")
    assert 0.011 < bx - 116.397 < 0.015 and 0.006 < by - 39.909 < 0.009


def test_vectorised_shapes_and_scalars():
    lon = np.linspace(110, 115, 12).reshape(3, 4)
    lat = np.full((3, 4), 30.0)
    x, y = convert(lon, lat, "wgs84", "gcj02")
    assert isinstance(x, np.ndarray) and x.shape == (3, 4) and y.shape == (3, 4)
    sx, sy = convert(112.0, 30.0, "wgs84", "gcj02")
    assert isinstance(sx, float) and isinstance(sy, float)
    assert sx == pytest.approx(float(convert(np.array([112.0]), np.array([30.0]), "wgs84", "gcj02")[0][0]))
    # lists work, NaN stays NaN, identity is exact
    x, y = convert([112.0, np.nan], [30.0, np.nan], "GCJ-02", "baidu")
    assert np.isnan(x[1]) and np.isfinite(x[0])
    assert convert(1.5, 2.5, "wgs84", "wgs84") == (1.5, 2.5)


def test_cgcs2000_is_practically_wgs84():
    lon = np.array([100.0, 116.4, 121.5]); lat = np.array([25.0, 39.9, 31.2])
    x, y = convert(lon, lat, "wgs84", "cgcs2000")
    assert np.all(dist_m(lon, lat, x, y) < 1.0)
    g1 = convert(lon, lat, "cgcs2000", "gcj02")
    g2 = convert(lon, lat, "wgs84", "gcj02")
    assert np.all(dist_m(g1[0], g1[1], g2[0], g2[1]) < 1.0)


OUTSIDE = {
    "Seoul": (126.98, 37.57), "Hanoi": (105.85, 21.03), "Ulaanbaatar": (106.91, 47.92), "Taipei": (121.56, 25.04),
    "Hong Kong (Kowloon)": (114.17, 22.32), "Hong Kong (Central)": (114.158, 22.282), "Macau": (113.543, 22.19),
    "Sheung Shui (HK)": (114.117, 22.502), "Lok Ma Chau (HK)": (114.075, 22.508), "Kinmen (TW)": (118.32, 24.44),
    "Tokyo": (139.69, 35.69), "Pyongyang": (125.75, 39.03), "Almaty": (76.9, 43.24), "Singapore": (103.82, 1.35),
}
INSIDE = {
    "Shenzhen Luohu (north of the Shenzhen River)": (114.118, 22.545), "Shenzhen Futian": (114.055, 22.525),
    "Zhuhai Gongbei (north of Macau)": (113.55, 22.225), "Xiamen": (118.09, 24.48), "Beijing": (116.4, 39.9),
    "Urumqi": (87.62, 43.83), "Lhasa": (91.1, 29.65), "Harbin": (126.63, 45.75), "Haikou": (110.33, 20.03),
    "Caofeidian (reclaimed coast)": (118.5, 38.95),
}


@pytest.mark.parametrize("name", list(OUTSIDE))
def test_outside_mainland_points_stay_put(name):
    x0, y0 = OUTSIDE[name]
    assert not in_mainland_china(x0, y0)
    for d in ("gcj02", "bd09"):
        assert convert(x0, y0, "wgs84", d) == (x0, y0)
        assert convert(x0, y0, d, "wgs84") == (x0, y0)


@pytest.mark.parametrize("name", list(INSIDE))
def test_inside_mainland_points_are_shifted(name):
    x0, y0 = INSIDE[name]
    assert in_mainland_china(x0, y0)
    x, y = convert(x0, y0, "wgs84", "gcj02")
    assert 50 < dist_m(x0, y0, x, y) < 800


def test_shenzhen_hong_kong_border_is_sharp():
    # walk south across the Shenzhen River at Luohu/Lo Wu (river ~22.53 N here)
    lat = np.arange(22.49, 22.57, 0.005)
    inside = in_mainland_china(np.full(lat.shape, 114.115), lat)
    assert not inside[0] and inside[-1]
    # one switch only, between 22.51 and 22.54
    switch = lat[np.argmax(inside)]
    assert 22.51 <= switch <= 22.54 and inside[np.argmax(inside):].all()


def test_in_mainland_vectorised_and_nan():
    m = in_mainland_china(np.array([116.4, np.nan, 126.98]), np.array([39.9, 30.0, 37.57]))
    assert m.tolist() == [True, False, False]


def test_shift_m_and_unknown_datum():
    assert 100 < float(shift_m(116.4, 39.9)) < 700
    with pytest.raises(AOIError, match="unknown datum"):
        convert(1, 2, "wgs84", "tokyo")
    assert normalize_datum("EPSG:4490") == "cgcs2000" and normalize_datum("百度") == "bd09"
    assert normalize_datum("高德/火星坐标(GCJ-02)") == "gcj02" and normalize_datum("CGCS2000大地坐标") == "cgcs2000"
    with pytest.raises(AOIError, match="unknown datum"):
        normalize_datum("北京54")
