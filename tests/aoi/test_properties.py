"""Property tests (Hypothesis) of boundary reading: areas, swapped coordinates, GCJ-02 boundaries."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from parkscan.aoi import AOIError, read_park
from parkscan.aoi.datum import convert, in_mainland_china
from parkscan.aoi.validate import geodesic_area_m2

from .conftest import feature, square

china_lon = st.floats(min_value=75.0, max_value=134.0, allow_nan=False)
china_lat = st.floats(min_value=19.0, max_value=53.0, allow_nan=False)
size = st.floats(min_value=0.005, max_value=0.2)
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _write(tmp_path, ring, name="p.geojson"):
    p = tmp_path / name
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [feature([ring])]}))
    return p


@SETTINGS
@given(china_lon, china_lat, size)
def test_square_in_china_reads_and_swapped_is_rejected(tmp_path, x, y, d):
    ring = square(x, y, d, d)
    assume(bool(np.all(in_mainland_china(*np.array(ring).T))))
    park = read_park(_write(tmp_path, ring))
    assert park.area_ha()["approved"] * 1e4 == pytest.approx(geodesic_area_m2(park.approved), rel=2e-3)
    with pytest.raises(AOIError, match=r"\(lat, lon\)"):
        read_park(_write(tmp_path, [[b, a] for a, b in ring], "swapped.geojson"))


@SETTINGS
@given(st.floats(min_value=103.0, max_value=121.0), st.floats(min_value=23.0, max_value=40.0), size,
       st.sampled_from(["gcj02", "bd09"]))
def test_boundaries_digitised_in_gcj02_come_back_to_wgs84(tmp_path, x, y, d, datum):
    ring = np.array(square(x, y, d, d))
    assume(bool(np.all(in_mainland_china(ring[:, 0], ring[:, 1]))))
    gx, gy = convert(ring[:, 0], ring[:, 1], "wgs84", datum)
    park = read_park(_write(tmp_path, np.column_stack([gx, gy]).tolist()), datum=datum)
    got = np.array(park.approved.exterior.coords)
    # same vertices (orientation may differ): compare sorted
    assert np.abs(np.sort(got[:-1], axis=0) - np.sort(ring[:-1], axis=0)).max() < 1e-9
