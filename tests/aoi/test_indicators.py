"""boundary_indicators: approved vs managed, sub-park spread, enterprises outside."""
from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

from parkscan.aoi import Park, SubPark, boundary_indicators, read_park

from .conftest import feature, square


def test_approved_only():
    ind = boundary_indicators(Park(id="P", name="P", approved=box(120.60, 31.30, 120.63, 31.33)))
    assert ind["approved_ha"] == pytest.approx(950, rel=0.01)
    assert ind["managed_ha"] is None and ind["n_subparks"] == 0 and ind["subpark_max_distance_km"] == 0
    assert ind["convex_hull_ratio"] == pytest.approx(1.0)
    assert ind["n_enterprises"] is None and ind["approximate"] is False


def test_managed_outside_and_not_managed():
    p = Park(id="P", name="P", approved=box(120.60, 31.30, 120.64, 31.33), managed=box(120.62, 31.30, 120.66, 31.33))
    ind = boundary_indicators(p)
    assert ind["managed_outside_approved_pct"] == pytest.approx(50, abs=0.5)
    assert ind["approved_not_managed_pct"] == pytest.approx(50, abs=0.5)
    assert ind["managed_outside_approved_ha"] == pytest.approx(ind["approved_not_managed_ha"], rel=0.01)


def test_subpark_spread_and_hull_ratio(fc):
    park = read_park(fc("z.geojson", [feature([square(120.60, 31.30, 0.02, 0.02)], subpark="甲"),
                                       feature([square(120.80, 31.30, 0.02, 0.02)], subpark="乙")]))
    ind = boundary_indicators(park)
    assert ind["n_subparks"] == 2 and ind["n_approved_parts"] == 2
    assert ind["subpark_max_distance_km"] == pytest.approx(19.0, abs=0.5)  # 0.2 deg of lon at 31.3 N
    assert ind["convex_hull_ratio"] > 5


def test_enterprises_outside_approved():
    p = Park(id="P", name="P", approved=box(120.60, 31.30, 120.63, 31.33), managed=box(120.60, 31.30, 120.66, 31.33))
    ent = gpd.GeoDataFrame({"enterprise_id": ["a", "b", "c"], "lon": [120.61, 120.65, 121.0], "lat": [31.31, 31.31, 31.31]},
                           geometry=gpd.points_from_xy([120.61, 120.65, 121.0], [31.31] * 3), crs=4326)
    ind = boundary_indicators(p.with_enterprises(ent))
    assert ind["n_enterprises"] == 3 and ind["enterprises_outside_approved"] == 2
    assert ind["enterprises_outside_footprint"] == 1 and ind["enterprises_outside_approved_ids"] == ["b", "c"]


def test_subparks_given_directly():
    sp = (SubPark("A", box(120.60, 31.30, 120.61, 31.31)), SubPark("A", box(120.60, 31.30, 120.62, 31.31), "managed"),
          SubPark("B", box(120.70, 31.30, 120.71, 31.31)))
    p = Park(id="P", name="P", approved=box(120.60, 31.30, 120.71, 31.31), subparks=sp)
    assert boundary_indicators(p)["n_subparks"] == 2
