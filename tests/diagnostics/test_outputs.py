"""Screening.write(): every output, valid with zero findings, en/zh, escaping, CSV defusing, atomic writes."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from parkscan.diagnostics import screen
from parkscan.diagnostics.sitevisits import COLUMNS, write_csv

OUTPUTS = ["report.html", "map.html", "findings.geojson", "site_visits.csv", "summary.json", "manifest.json", "ranking.csv", "map.png"]
RAW = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>"]


def _formula(cell: str) -> bool:
    return cell[:1] in ("=", "+", "@", "\t", "\r") or (cell[:1] == "-" and not cell[1:2].isdigit() and cell[1:2] != ".")


@pytest.fixture
def hostile_out(tmp_path, hostile_park, fake_diagnostic, h):
    """A screening where every hostile enterprise has a named finding (so all are in site_visits.csv)."""
    ent = hostile_park.enterprises
    pts = list(zip(ent["lon"].astype(float), ent["lat"].astype(float)))
    fake_diagnostic("fakemobile", ("mobile",), h.hotspot_diag(pts, named=list(ent["enterprise_id"])))
    s = screen(hostile_park, mobile=["m.csv"])
    out = tmp_path / "out"
    s.write(out)
    return s, out


def test_zero_findings_writes_valid_outputs_in_chinese(tmp_path, park):
    s = screen(park, lang="zh")
    assert s.findings == []
    out = tmp_path / "zh"
    paths = s.write(out)
    for n in OUTPUTS:
        assert (out / n).is_file() and (out / n).stat().st_size > 0, n
        assert n in paths
    assert (out / "layers").is_dir() and any((out / "layers").iterdir())
    fc = json.loads((out / "findings.geojson").read_text(encoding="utf-8"))
    assert fc["type"] == "FeatureCollection" and fc["features"] == []
    raw = (out / "site_visits.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese
    rows = list(csv.reader(open(out / "site_visits.csv", encoding="utf-8-sig")))
    assert rows == [COLUMNS]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["park"]["name"] == "测试园区" and summary["n_findings"] == 0
    assert summary["versions"]["numpy"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["software"]["parkscan"] and manifest["run"]["seconds"] >= 0
    assert set(manifest["outputs"]) >= {"report.html", "summary.json"}
    html = (out / "report.html").read_text(encoding="utf-8")
    for label in ("园区筛查报告", "指标表", "数据覆盖", "现场核查清单", "局限性", "批复面积", "未提供数据"):
        assert label in html, label
    assert 'lang="zh-CN"' in html
    assert "Indicator sheet" not in html  # every label translated
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", html)
    # self-contained: nothing loaded from the network
    assert not re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)=["\']https?://', html)
    assert 'src="data:image/png;base64,' in html
    assert "srcdoc=" in html


def test_english_report_sections_and_map(hostile_out):
    s, out = hostile_out
    html = (out / "report.html").read_text(encoding="utf-8")
    for label in ("Summary", "Indicator sheet", "Data coverage", "Findings", "Site-visit list", "Methods", "Data attributions",
                  "Limitations", "Contains fake data 2024", "Fake limitation.", "Fake method.", "@media print"):
        assert label in html, label
    assert "GCJ-02" in html and "BD-09" in html


def test_html_escaping_of_hostile_names(hostile_out):
    s, out = hostile_out
    for n in ("report.html", "map.html"):
        text = (out / n).read_text(encoding="utf-8")
        for raw in RAW:
            assert raw not in text, (n, raw)
        assert "alert(1)" in text, n  # shown, as text
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_csv_formula_defusing(hostile_out, h):
    s, out = hostile_out
    for name in ("site_visits.csv", "ranking.csv"):
        rows = list(csv.reader(open(out / name, encoding="utf-8-sig")))
        cells = [c for r in rows for c in r]
        bad = [c for c in cells if c and _formula(c)]
        assert not bad, (name, bad[:3])
    visits = list(csv.DictReader(open(out / "site_visits.csv", encoding="utf-8-sig")))
    names = {r["enterprise_id"]: r["name"] for r in visits}
    assert names["E3"] == "'" + h.HOSTILE["E3"]
    assert names["E4"] == "'+cmd|calc!A0"
    assert names["E6"] == "'-2+3"
    assert names["E7"] == "'\tTAB"
    assert names["E1"] == h.HOSTILE["E1"]  # not a formula: unchanged in the CSV
    # coordinates stay numbers, in three datums; GCJ-02 is shifted by a few hundred metres in China
    for r in visits:
        lon, glon = float(r["lon_wgs84"]), float(r["lon_gcj02"])
        assert 0.002 < abs(glon - lon) < 0.01
        assert float(r["lat_bd09"]) != float(r["lat_gcj02"])


def test_write_csv_keeps_negative_numbers(tmp_path):
    df = pd.DataFrame({"a": ["-12.5", "-x", "=1+1", "ok", "@me"], "b": [-3.5, 2, 0, 1, 5]})
    write_csv(tmp_path / "t.csv", df)
    rows = list(csv.reader(open(tmp_path / "t.csv", encoding="utf-8-sig")))
    assert rows[1] == ["-12.5", "-3.5"]
    assert [r[0] for r in rows[2:]] == ["'-x", "'=1+1", "ok", "'@me"]


def test_findings_geojson_has_finding_fields(hostile_out):
    s, out = hostile_out
    fc = json.loads((out / "findings.geojson").read_text(encoding="utf-8"))
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == len(s.findings) > 0
    props = fc["features"][0]["properties"]
    for k in ("id", "kind", "severity", "confidence", "enterprise_id", "evidence", "sources", "explain_en", "explain_zh"):
        assert k in props
    assert fc["features"][0]["geometry"]["type"] == "Point"


def test_atomic_outputs_keep_previous_file_on_failure(tmp_path, park, monkeypatch):
    s = screen(park)
    out = tmp_path / "o"
    s.write(out)
    before = {n: (out / n).read_bytes() for n in ("report.html", "summary.json", "manifest.json")}

    import parkscan.diagnostics.report as report

    def boom(*a, **k):
        raise RuntimeError("interrupted while rendering")

    monkeypatch.setattr(report, "render_report", boom)
    with pytest.raises(RuntimeError):
        s.write(out)
    for n, data in before.items():
        assert (out / n).read_bytes() == data  # previous complete file kept
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # no half files or temporary folders


def test_atomic_csv_failing_mid_write(tmp_path):
    p = tmp_path / "t.csv"
    write_csv(p, pd.DataFrame({"a": [1]}))

    class Bad:
        def __str__(self):
            raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError):
        write_csv(p, pd.DataFrame({"a": [1, Bad()]}))
    assert p.read_text(encoding="utf-8-sig").splitlines() == ["a", "1"]
    assert [q.name for q in tmp_path.iterdir()] == ["t.csv"]


def test_tables_written_as_csv(tmp_path, park, fake_diagnostic):
    from parkscan.diagnostics.registry import DiagnosticResult

    def run(park, ctx, **kw):
        return DiagnosticResult(name="tab", tables={"segments": pd.DataFrame({"seg": ["=cmd", "b"], "v": [1.5, -2.0]})})

    fake_diagnostic("tab", (), run)
    s = screen(park)
    s.write(tmp_path / "o")
    rows = list(csv.reader(open(tmp_path / "o" / "segments.csv", encoding="utf-8-sig")))
    assert rows == [["seg", "v"], ["'=cmd", "1.5"], ["b", "-2.0"]]


def test_screening_is_deterministic(tmp_path, hostile_park, fake_diagnostic, h):
    ent = hostile_park.enterprises
    fake_diagnostic("fakemobile", ("mobile",), h.hotspot_diag(list(zip(ent["lon"], ent["lat"]))))
    a = screen(hostile_park, mobile=["m.csv"])
    b = screen(hostile_park, mobile=["m.csv"])
    a.write(tmp_path / "a")
    b.write(tmp_path / "b")
    for n in ("findings.geojson", "site_visits.csv", "ranking.csv"):
        assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes(), n


def test_geodataframe_tables_as_wkt(tmp_path, park, fake_diagnostic):
    import geopandas as gpd
    from shapely.geometry import Point

    from parkscan.diagnostics.registry import DiagnosticResult

    def run(park, ctx, **kw):
        g = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(113.31, 23.11)], crs="EPSG:4326")
        return DiagnosticResult(name="geo", tables={"geo_points": g})

    fake_diagnostic("geo", (), run)
    screen(park).write(tmp_path / "o")
    rows = list(csv.reader(open(tmp_path / "o" / "geo_points.csv", encoding="utf-8-sig")))
    assert rows[1] == ["a", "POINT (113.31 23.11)"]
