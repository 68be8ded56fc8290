"""Smaller parts: CSV round trip (Hypothesis), indicator sheet, manifest, map layers, report formatting."""
from __future__ import annotations

import csv

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from parkscan.diagnostics import screen
from parkscan.diagnostics.findings import Finding
from parkscan.diagnostics.indicators import indicator_sheet
from parkscan.diagnostics.manifest import build_manifest, input_item, strip_url
from parkscan.diagnostics.maplayers import base_layers
from parkscan.diagnostics.registry import DiagnosticResult
from parkscan.diagnostics.report import fmt_datetime, fmt_number, strings
from parkscan.diagnostics.sitevisits import write_csv

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12), min_size=1, max_size=5))
def test_csv_cells_never_start_a_formula_and_round_trip(tmp_path_factory, cells):
    p = tmp_path_factory.mktemp("csv") / "t.csv"
    write_csv(p, pd.DataFrame({"c": cells}))
    with open(p, encoding="utf-8-sig", newline="") as fh:
        back = [r[0] for r in csv.reader(fh)][1:]
    assert len(back) == len(cells)
    for orig, got in zip(cells, back):
        if got.startswith(TRIGGERS):  # only plain numbers may start with a sign
            float(got)
        assert got == orig or got == "'" + orig


def test_locales_have_the_same_keys():
    assert set(strings("en")) == set(strings("zh"))
    assert all(strings("zh").values())


def test_number_and_date_formatting():
    assert fmt_number(1234567.0) == "1,234,567"
    assert fmt_number(12.345) == "12.3"
    assert fmt_number(float("nan")) == "—"
    assert fmt_number(3) == "3"
    assert fmt_datetime("2025-06-10T08:05:00+00:00", "en") == "10 Jun 2025, 08:05 UTC"
    assert fmt_datetime("2025-06-10T08:05:00+00:00", "zh") == "2025年6月10日 08:05 UTC"


def test_indicator_sheet_labels_and_landcover_derivation():
    lc = DiagnosticResult(name="landcover", indicators={
        "areas_by_class_approved_after": {"built_up": {"mapped_ha": 100.0, "area_ha": 110.0, "ci95_ha": 8.0}},
        "areas_by_class_outside_approved_after": {"built_up": {"mapped_ha": 20.0, "area_ha": None, "ci95_ha": None}},
        "areas_by_class_approved_before": {"built_up": {"mapped_ha": 90.0, "area_ha": None}, "cropland": {"mapped_ha": 50.0}},
        "areas_by_class_outside_approved_before": {"built_up": {"mapped_ha": 5.0}, "cropland": {"mapped_ha": 30.0}},
        "built_up_share_approved_after": 0.5,
    })
    mob = DiagnosticResult(name="mobile", indicators={"mobile_hotspots_tvoc": 3, "mobile_km_driven": 120.5})
    sheet = indicator_sheet({"landcover": lc, "mobile": mob}, {"landcover": "ok", "mobile": "ok", "satellite": "not_provided"}, [],
                            provided=["imagery", "mobile"])
    assert sheet["built_up_inside_approved_ha"]["value"] == 110.0 and sheet["built_up_inside_approved_ha"]["ci95"] == 8.0
    assert sheet["built_up_outside_approved_ha"]["value"] == 20.0
    assert sheet["built_up_change_ha"]["value"] == 35.0  # (110 + 20) − (90 + 5)
    assert sheet["farmland_loss_ha"]["status"] == "not_measured"  # no cropland after: cannot tell
    assert sheet["mobile_hotspots_tvoc"]["label"]["zh"] == "走航高值点数：TVOC"
    assert sheet["mobile_km_driven"]["unit"] == "km"
    assert sheet["built_up_share_approved_after"]["label"]["zh"].startswith("建设用地占比")
    assert sheet["no2_enhancement"]["status"] == "not_provided"
    assert sheet["findings.mobile_hotspot"]["value"] == 0  # mobile ran and found nothing: a measured zero
    assert sheet["findings.heat_source"]["value"] is None  # satellite did not run: not a zero


def test_strip_url_and_input_items(tmp_path):
    assert strip_url("https://user:pw@host.example/path?token=abc&x=1") == "https://host.example/path?token=***&x=1"
    assert strip_url("/data/park.geojson") == "/data/park.geojson"
    f = tmp_path / "a.csv"
    f.write_text("x")
    it = input_item(f, kind="fires")
    assert it.size == 1 and len(it.sha256) == 64
    d = tmp_path / "imagery"
    d.mkdir()
    (d / "b.tif").write_bytes(b"12")
    assert input_item(d, kind="imagery").size == 2
    m = build_manifest(inputs=[it, it], parameters={"a": 1}, started="s", finished="f", seconds=1.0, outputs={"a.csv": f})
    assert len(m["inputs"]) == 1 and m["outputs"]["a.csv"]["size"] == 1
    assert m["software"]["numpy"] and m["software"]["python"]


def test_base_layers(hostile_park):
    from shapely.geometry import Point

    s = screen(hostile_park)
    f = Finding(id="x", kind="heat_source", severity=1, confidence=1, geometry=Point(113.305, 23.105), enterprise_id="E1")
    layers = base_layers(s.park, ranking=s.ranking, findings=[f], route={"start": [113.3, 23.1], "order": ["E1", "E2"]}, lang="zh")
    kinds = [lay.kind for lay in layers]
    assert kinds[:3] == ["approved", "enterprises", "findings"]
    ent = layers[1]
    assert ent.color_by == "industry"
    props = {p["properties"]["enterprise_id"]: p["properties"] for p in ent.features["features"]}
    assert props["E1"]["name"] == "<script>alert(1)</script>"  # raw here: the renderer escapes
    assert props["E1"]["rank"] >= 1 and "score" in props["E1"]
    assert dict(ent.popup_fields)["score"] == "得分"
    assert layers[2].features["features"][0]["properties"]["enterprise_name"] == "<script>alert(1)</script>"
    assert layers[-1].name == "建议核查路线"
