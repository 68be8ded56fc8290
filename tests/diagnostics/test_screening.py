"""screen(): which diagnostics run, coverage, failures, findings, ranking with and without enterprises."""
from __future__ import annotations

import pytest
from shapely.geometry import Point, box

from parkscan.aoi import Park
from parkscan.aoi.errors import DiagnosticsError, SourceError
from parkscan.diagnostics import Finding, Screening, screen
from parkscan.diagnostics.registry import DiagnosticResult


def test_park_only_runs_boundary_and_reports_missing_data(park, fake_diagnostic, h):
    fake_diagnostic("fakesat", ("no2", "wind"), h.hotspot_diag([(113.31, 23.11)], kind="no2_enhancement"))
    s = screen(park)
    assert isinstance(s, Screening)
    assert s.status["boundary"] == "partial"  # no managed boundary, no enterprise list
    assert s.status["fakesat"] == "not_provided"
    assert "--no2" in s.coverage["fakesat"]["detail"]
    assert s.findings == []
    # missing data are never "no problem"
    assert s.indicators["findings.no2_enhancement"]["value"] is None
    assert s.indicators["findings.no2_enhancement"]["status"] == "not_provided"
    assert s.indicators["managed_ha"]["status"] == "not_provided"
    assert any("fakesat" in x["en"].lower() and "not assessed" in x["en"] for x in s.limitations)
    assert len(s.site_visits) == 0


def test_auxiliary_input_alone_does_not_run_a_diagnostic(park, fake_diagnostic, h):
    fake_diagnostic("fakesat", ("no2", "wind"), h.hotspot_diag([(113.31, 23.11)], kind="no2_enhancement"))
    s = screen(park, wind={"from_deg": 90.0, "speed_ms": 3.0})
    assert s.status["fakesat"] == "not_provided"


def test_zones_without_enterprise_list(park, fake_diagnostic, h):
    pts = [(113.305, 23.105), (113.3052, 23.1051), (113.335, 23.125)]
    fake_diagnostic("fakemobile", ("mobile",), h.hotspot_diag(pts))
    s = screen(park, mobile=["track.csv"])
    assert s.status["fakemobile"] == "ok"
    assert len(s.findings) == 3
    assert {it.item_type for it in s.ranking} == {"zone"}
    assert len(s.ranking) == 2  # two findings share one 500 m zone
    top = s.ranking[0]
    assert len(top.contributions) == 2 and top.score > s.ranking[1].score
    assert list(s.site_visits["type"]) == ["zone", "zone"]
    assert s.site_visits["enterprise_id"].str.startswith("Z").all()
    assert s.indicators["peak_max_ppb"]["value"] == 130.0
    assert "Contains fake data 2024" in s.attributions


def test_enterprises_named_and_proximity_attribution(hostile_park, fake_diagnostic, h):
    # one named finding for E3, one 50 m from E1 (proximity), one far from everything (zone)
    ent = hostile_park.enterprises.set_index("enterprise_id")
    pts = [(113.3, 23.0), (float(ent.loc["E1", "lon"]) + 0.0005, float(ent.loc["E1", "lat"])), (113.3395, 23.1015)]
    fake_diagnostic("fakemobile", ("mobile",), h.hotspot_diag(pts, named=["E3", None, None]))
    s = screen(hostile_park, mobile=["t.csv"])
    by = {it.item_id: it for it in s.ranking}
    assert by["E3"].contributions[0].attribution == "named"
    assert by["E1"].contributions[0].attribution == "proximity"
    assert 0 < by["E1"].contributions[0].distance_m < 300
    assert by["E3"].score > by["E1"].score > 0  # proximity counts less than a named finding
    assert any(it.item_type == "zone" for it in s.ranking)
    assert by["E5"].score == 0 and by["E5"].reasons["en"][0].startswith("no evidence")
    assert len(s.site_visits) == 3
    assert sorted(s.site_visits["visit_order"]) == [1, 2, 3]
    assert "下风向" in by["E3"].reasons["zh"][0]


def test_enterprises_from_path_are_read(tmp_path, park):
    csv = tmp_path / "ent.csv"
    csv.write_text("统一社会信用代码,企业名称,经度,纬度,所属行业\nA1,甲化工,113.31,23.11,化工\nA2,乙,113.50,23.20,涂装\n", encoding="utf-8")
    s = screen(park, enterprises=str(csv))
    assert len(s.park.enterprises) == 2
    assert any(i.kind == "enterprises" and i.sha256 for i in s.inputs)
    # A2 is ~20 km outside the approved boundary: a boundary_confusion finding attributed to it
    f = [f for f in s.findings if f.kind == "boundary_confusion"]
    assert len(f) == 1 and f[0].enterprise_id == "A2"
    assert s.ranking[0].item_id == "A2"


def test_managed_outside_approved_is_a_finding():
    p = Park(id="P", name="P", approved=box(120.60, 31.30, 120.63, 31.33), managed=box(120.60, 31.30, 120.64, 31.33))
    s = screen(p)
    f = [f for f in s.findings if f.kind == "boundary_confusion"]
    assert len(f) == 1
    assert f[0].evidence["managed_outside_approved_ha"] == pytest.approx(s.indicators["managed_outside_approved_ha"]["value"], rel=1e-3)
    assert s.indicators["managed_outside_approved_ha"]["value"] > 250


def test_failing_diagnostic_is_recorded_and_screening_goes_on(park, fake_diagnostic, h):
    def broken(park, ctx, **kw):
        raise SourceError("no2.nc: not a Sentinel-5P file; download the L2 product")

    fake_diagnostic("brokensat", ("no2",), broken)
    fake_diagnostic("fakemobile", ("mobile",), h.hotspot_diag([(113.31, 23.11)]))
    s = screen(park, no2=["no2.nc"], mobile=["m.csv"])
    assert s.status["brokensat"] == "failed"
    assert "not a Sentinel-5P file" in s.coverage["brokensat"]["detail"]
    assert s.status["fakemobile"] == "ok" and len(s.findings) == 1
    assert all("brokensat" in it.not_assessed for it in s.ranking)


def test_bug_in_diagnostic_propagates(park, fake_diagnostic):
    def buggy(park, ctx, **kw):
        raise ZeroDivisionError("bug")

    fake_diagnostic("buggy", (), buggy)
    with pytest.raises(ZeroDivisionError):
        screen(park)


def test_unused_input_is_a_limitation(park, monkeypatch):
    from parkscan.diagnostics import registry

    registry._load_builtin()
    monkeypatch.setattr(registry, "_REGISTRY", {k: v for k, v in registry._REGISTRY.items() if "fires" not in v.inputs})
    s = screen(park, fires="fires.csv")
    assert "fires" in s.params["unused_inputs"]
    assert any("fires" in x["en"] for x in s.limitations)


def test_bad_lang(park):
    with pytest.raises(DiagnosticsError):
        screen(park, lang="fr")


def test_duplicate_finding_ids_are_kept_distinct(park, fake_diagnostic, h):
    fake_diagnostic("a", ("mobile",), h.hotspot_diag([(113.31, 23.11)]))
    fake_diagnostic("b", ("mobile",), h.hotspot_diag([(113.31, 23.11)]))
    s = screen(park, mobile=["m.csv"])
    assert len({f.id for f in s.findings}) == 2


def test_progress_reports_fractions(park, fake_diagnostic, h):
    fake_diagnostic("fakemobile", ("mobile",), h.hotspot_diag([(113.31, 23.11)]))
    seen = []
    screen(park, mobile=["m.csv"], progress=lambda m, f: seen.append(f))
    assert seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)


def test_finding_geometry_empty_without_enterprise_is_not_ranked(park, fake_diagnostic):
    def run(park, ctx, **kw):
        return DiagnosticResult(name="x", findings=[Finding(id="x1", kind="heat_source", severity=1, confidence=1, geometry=Point())])

    fake_diagnostic("emptygeom", (), run)
    s = screen(park)
    assert len(s.findings) == 1 and s.ranking == []
