"""Ranking: weights config, score arithmetic, determinism, missing data; the visit route."""
from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from shapely.geometry import Point

from parkscan.aoi.errors import DiagnosticsError
from parkscan.diagnostics.findings import KINDS, Finding
from parkscan.diagnostics.ranking import coverage_share, load_weights, rank
from parkscan.diagnostics.sitevisits import entrance, route_length_m, site_visits, visit_route


def _f(i, kind, lon, lat, sev=0.8, conf=0.5, eid=None):
    return Finding(id=f"{kind}-{i:03d}", kind=kind, severity=sev, confidence=conf, geometry=Point(lon, lat), enterprise_id=eid,
                   explain={"en": f"e{i}", "zh": f"z{i}"})


def test_builtin_weights_cover_every_kind():
    w = load_weights()
    assert set(w.kinds) == set(KINDS)
    assert all(0 <= v <= 1 for v in w.kinds.values())
    assert w.attribution_distance_m == 300 and w.zone_size_m == 500


@pytest.mark.parametrize("text, msg", [
    ("[kinds]\nmobile_hotspot = 2.0\n", "within 0–1"),
    ("[kinds]\nnot_a_kind = 0.5\n", "not a finding kind"),
    ("[ranking]\nzone_size_m = -5\n", "zone_size_m"),
    ("[ranking]\nmax_site_visits = 2.5\n", "integer"),
    ("[ranking]\nfoo = 1\n", "not a ranking setting"),
    ("[kinds\n", "not valid TOML"),
])
def test_bad_weights_are_user_errors(tmp_path, text, msg):
    p = tmp_path / "w.toml"
    p.write_text(text)
    with pytest.raises(DiagnosticsError, match=msg):
        load_weights(p)


def test_score_is_noisy_or_of_weighted_contributions(hostile_park):
    w = load_weights()
    fs = [_f(1, "mobile_hotspot", 113.0, 23.0, eid="E1"), _f(2, "heat_source", 113.0, 23.0, eid="E1")]
    r = {it.item_id: it for it in rank(hostile_park, fs, weights=w)}
    c1 = w.kinds["mobile_hotspot"] * 0.8 * 0.5
    c2 = w.kinds["heat_source"] * 0.8 * 0.5
    assert r["E1"].score == pytest.approx(1 - (1 - c1) * (1 - c2))
    assert r["E1"].confidence == pytest.approx(0.5)  # all findings 0.5, no coverage status given
    assert [c.finding_id for c in r["E1"].contributions] == ["mobile_hotspot-001", "heat_source-002"]


def test_custom_weights_change_the_order(tmp_path, hostile_park):
    fs = [_f(1, "mobile_hotspot", 0, 0, eid="E1"), _f(2, "heat_source", 0, 0, eid="E2")]
    assert rank(hostile_park, fs)[0].item_id == "E1"
    p = tmp_path / "w.toml"
    p.write_text("[kinds]\nmobile_hotspot = 0.1\nheat_source = 1.0\n")
    assert rank(hostile_park, fs, weights=load_weights(p))[0].item_id == "E2"


def test_ranking_is_deterministic_and_order_independent(hostile_park):
    ent = hostile_park.enterprises
    rng = random.Random(3)
    fs = [_f(i, rng.choice(["mobile_hotspot", "thermal_anomaly", "heat_source"]), float(ent["lon"].iloc[i % 7]) + 0.001,
             float(ent["lat"].iloc[i % 7]), sev=0.5, conf=0.5) for i in range(14)]
    a = rank(hostile_park, fs)
    shuffled = fs[:]
    rng.shuffle(shuffled)
    b = rank(hostile_park, shuffled)
    assert [(x.item_id, x.score, x.confidence) for x in a] == [(x.item_id, x.score, x.confidence) for x in b]
    # exact ties are broken by id
    tie = rank(hostile_park, [])
    assert [x.item_id for x in tie] == sorted(x.item_id for x in tie)


def test_no_evidence_is_not_clean(hostile_park):
    status = {"boundary": "ok", "mobile": "not_provided", "satellite": "not_provided", "landcover": "failed"}
    w = load_weights()
    r = rank(hostile_park, [], status=status, weights=w)
    share = coverage_share(status, w)
    assert share == pytest.approx(0.1 / 1.0)
    for it in r:
        assert it.score == 0
        assert it.confidence == pytest.approx(share)
        assert it.not_assessed == ("landcover", "mobile", "satellite")


def test_proximity_goes_to_nearest_enterprise_only(hostile_park):
    e = hostile_park.enterprises.set_index("enterprise_id")
    lon, lat = float(e.loc["E2", "lon"]), float(e.loc["E2", "lat"])
    r = {it.item_id: it for it in rank(hostile_park, [_f(1, "thermal_anomaly", lon + 0.0002, lat)])}
    assert r["E2"].score > 0 and sum(1 for it in r.values() if it.score > 0) == 1


def test_visit_route_nearest_neighbour_2opt_is_optimal_on_small_sets():
    rng = np.random.default_rng(0)
    for _ in range(20):
        xy = rng.uniform(0, 1000, (6, 2))
        start = rng.uniform(0, 1000, 2)
        order = visit_route(xy, start)
        assert sorted(order) == list(range(6))
        best = min(route_length_m(xy, p, start) for p in itertools.permutations(range(6)))
        assert route_length_m(xy, order, start) <= best * 1.05


def test_entrance_on_boundary_and_override(park):
    lon, lat = entrance(park)
    assert park.approved.boundary.distance(Point(lon, lat)) < 1e-5  # ~1 m: the edge is straight in UTM, not in lon/lat
    assert entrance(park, (113.0, 23.0)) == (113.0, 23.0)


def test_entrance_nearest_main_road(park):
    # a road running north-south east of the park: the entrance is on the east edge
    lon, lat = entrance(park.__class__(**{**park.__dict__, "metadata": {"main_road": "LINESTRING (113.36 23.0, 113.36 23.2)"}}))
    assert lon == pytest.approx(113.34, abs=1e-6)


def test_site_visits_selection_and_columns(hostile_park):
    fs = [_f(i, "mobile_hotspot", 0, 0, eid=f"E{i}") for i in range(1, 4)]
    w = load_weights()
    table, route = site_visits(hostile_park, rank(hostile_park, fs, weights=w), weights=w, lang="zh")
    assert len(table) == 3 and list(table["rank"]) == [1, 2, 3]
    assert sorted(table["visit_order"]) == [1, 2, 3]
    assert route["order"] and route["length_m"] > 0
    assert table["reasons"].str.contains("走航").all()


def test_park_level_findings_are_not_attributed(hostile_park):
    from shapely.geometry import box

    from parkscan.diagnostics.ranking import park_level

    e = hostile_park.enterprises.set_index("enterprise_id")
    lon, lat = float(e.loc["E1", "lon"]), float(e.loc["E1", "lat"])
    no2 = _f(1, "no2_enhancement", lon, lat)  # coarse column: never pinned on the enterprise next to its point
    big = Finding(id="big", kind="landcover_change", severity=1, confidence=1, geometry=box(113.29, 23.09, 113.35, 23.14))
    small = _f(2, "bare_soil", lon + 0.0001, lat)
    w = load_weights()
    r = {it.item_id: it for it in rank(hostile_park, [no2, big, small], weights=w)}
    assert [c.finding_id for c in r["E1"].contributions] == [small.id]
    assert not any(it.item_type == "zone" for it in r.values())
    assert [f.id for f in park_level(hostile_park, [no2, big, small], w)] == [no2.id, "big"]
    named = _f(3, "no2_enhancement", lon, lat, eid="E2")  # unless a diagnostic names the enterprise
    assert rank(hostile_park, [named], weights=w)[0].item_id == "E2"


def test_polygon_ties_go_to_enterprise_nearest_its_centre(hostile_park):
    import shapely
    from shapely.geometry import box

    # E1 (113.305, 23.105) and E2 (113.315, 23.112) are both inside (distance 0): the centroid is nearer E1
    poly = Finding(id="p", kind="built_up_outside_approved", severity=1, confidence=1, geometry=box(113.3045, 23.1045, 113.3152, 23.1122))
    e = hostile_park.enterprises
    inside = [i for i, x, y in zip(e["enterprise_id"], e["lon"], e["lat"]) if poly.geometry.contains(shapely.Point(x, y))]
    assert sorted(inside) == ["E1", "E2"]
    r = rank(hostile_park, [poly])
    assert r[0].item_id == "E1" and r[0].contributions[0].distance_m == 0
