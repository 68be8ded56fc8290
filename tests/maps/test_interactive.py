"""Unit tests of the interactive map: render to HTML and assert on it (offline, escaping, layers, datum shift)."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from parkscan.aoi.errors import ParkscanError
from parkscan.maps import RasterLayer, TrackLayer, VectorLayer
from parkscan.maps._assets import inline_css, versions
from parkscan.maps._html import esc, js_json
from parkscan.maps.basemaps import basemap, shift_geojson
from parkscan.maps.interactive import layer_bounds, render_map, save_html, to_html

HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>']
_REMOTE = re.compile(r"""<(?:script|link|img|iframe|source|video|audio)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


def _html(layers, **kw):
    kw.setdefault("title", "Test park")
    return to_html(render_map(layers, **kw))


def test_offline_html_has_no_remote_resources(layers):
    html = _html(layers)
    assert not _REMOTE.search(html), _REMOTE.search(html)
    assert "cdn.jsdelivr" not in html and "cdnjs" not in html and "code.jquery" not in html
    assert "url(http" not in html.replace(" ", "")
    assert "bootstrap" not in html.lower().replace("bootstrapcdn", "")  # not shipped
    # Leaflet 1.9.4 and the plugins are inlined, CSS images as data URIs
    assert 'version="1.9.4"' in html or "1.9.4" in html
    assert "L.Control.Fullscreen" in html or "Control.FullScreen" in html
    assert "L.Control.Measure" in html
    assert 'url("data:image/png;base64,' in html
    assert html.count("<script") >= 5
    assert "</script" not in html.split("<script>/* leaflet/leaflet.js */", 1)[1].split("\n</script>", 1)[0]


def test_all_layers_and_controls_present(layers):
    html = _html(layers)
    for name in ("Approved boundary", "Managed boundary", "Sub-parks", "Enterprises", "Findings", "Hotspot segments",
                 "Heat sources", "NO2 track", "Land-cover change", "Before", "After"):
        assert f'"{name}"' in html, name
    assert "L.control.psLegend" in html  # legend
    assert "L.control.psSwipe" in html  # before/after
    assert "L.control.psTime" in html  # LST dates
    assert "L.control.scale" in html and "L.control.fullscreen" in html and "L.Control.Measure" in html
    assert "L.control.layers" in html
    assert html.count("L.imageOverlay") >= 5
    assert "data:image/png;base64," in html


def test_hostile_names_are_escaped_everywhere(layers):
    html = _html(layers, title=HOSTILE[0], attributions=[HOSTILE[1]])
    for raw in ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "<b>x</b>", '"><img']:
        assert raw not in html, raw
    assert "alert(1)" in html and "alert(2)" in html  # still shown, as text
    # inside the JS, the escaped text is present in popups and tooltips
    assert "\\u0026lt;script\\u0026gt;alert(1)\\u0026lt;/script\\u0026gt;" in html
    # the <title> is escaped too
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>" in html


def test_js_json_cannot_break_out_of_script():
    s = js_json({"a": "</script><script>alert(1)</script>", "b": "\u2028"})
    assert "<" not in s and ">" not in s and "\u2028" not in s
    assert json.loads(s) == {"a": "</script><script>alert(1)</script>", "b": "\u2028"}
    assert esc('"><img>') == "&quot;&gt;&lt;img&gt;"


def test_popups_carry_finding_evidence(layers):
    html = _html(layers)
    assert "Mobile-monitoring hotspot" in html and "peak_ugm3" in html and "412.5" in html
    assert "Severity" in html and "Confidence" in html and "mobile-1" in html
    zh = _html(layers, lang="zh")
    assert "走航监测高值点" in zh and "严重程度" in zh and "下风向高值" in zh
    assert "leaflet-measure.cn.js" in zh


def test_legend_lists_industries_kinds_and_colorbar(layers):
    html = _html(layers)
    line = next(ln for ln in html.splitlines() if "L.control.psLegend(" in ln)
    legend = " ".join(json.loads(m) for m in re.findall(r'"(?:[^"\\]|\\.)*"', line))
    for word in ("化工", "涂装", "Unknown", "Built-up outside the approved boundary", "New built-up", "ps-colorbar",
                 "NO2 (µg/m³)", "Approved boundary", "Managed boundary"):
        assert word in legend, word
    assert "linear-gradient" in legend


def test_gaode_shifts_every_overlay(layers):
    from parkscan.aoi.datum import convert

    wgs = _html(layers)
    gcj = _html(layers, basemap="gaode")
    assert "webrd0{s}.is.autonavi.com" in gcj and "AutoNavi" in gcj
    lon, lat = convert(np.array([113.305]), np.array([23.105]), "wgs84", "gcj02")
    assert abs(lon[0] - 113.305) > 1e-4  # Guangzhou is shifted by a few hundred metres
    assert "[113.305,23.105]" in wgs and "[113.305,23.105]" not in gcj
    shifted = f"[{round(float(lon[0]), 6)}"
    assert any(shifted[:10] in m for m in re.findall(r"\[113\.\d+,23\.\d+\]", gcj)), shifted
    # raster bounds shifted as well
    fc = shift_geojson({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "MultiPolygon", "coordinates": [[[[113.3, 23.1], [113.31, 23.1], [113.31, 23.11], [113.3, 23.1]]]]}}]}, "gcj02")
    x, y = fc["features"][0]["geometry"]["coordinates"][0][0][0]
    ex, ey = convert(113.3, 23.1, "wgs84", "gcj02")
    assert abs(x - float(ex)) < 1e-9 and abs(y - float(ey)) < 1e-9


def test_basemaps_and_attribution(layers, monkeypatch):
    osm = _html(layers, basemap="osm", attributions=["Contains modified Copernicus Sentinel data 2024"])
    assert "tile.openstreetmap.org" in osm and "OpenStreetMap" in osm and "Copernicus Sentinel data 2024" in osm
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(ParkscanError, match="TIANDITU_KEY"):
        render_map(layers, title="x", basemap="tianditu")
    monkeypatch.setenv("TIANDITU_KEY", "k123")
    tdt = _html(layers, basemap="tianditu", lang="zh")
    assert "vec_w/wmts" in tdt and "cva_w/wmts" in tdt and "tk=k123" in tdt and "Tianditu" in tdt
    with pytest.raises(ParkscanError, match="unknown basemap"):
        basemap("google")
    none = _html(layers)
    assert "L.tileLayer" not in none


def test_empty_and_degenerate_layers():
    html = _html([VectorLayer("Nothing", {"type": "FeatureCollection", "features": []})])
    assert "L.map" in html
    t = TrackLayer("t", np.array([113.3, np.nan, 113.31]), np.array([23.1, 23.1, np.nan]), np.array([np.nan] * 3))
    r = RasterLayer("one pixel", np.full((1, 1, 4), 255, np.uint8), ((23.1, 113.3), (23.11, 113.31)))
    html = _html([t, r])
    assert "one pixel" in html
    assert layer_bounds([]) is None


def test_save_html_is_atomic_and_readable(layers, tmp_path):
    p = save_html(render_map(layers, title="T"), tmp_path / "sub" / "map.html")
    assert p.exists() and p.stat().st_size > 100_000
    assert list((tmp_path / "sub").glob(".*")) == []
    assert p.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_assets_inline_and_versions():
    v = versions()
    assert v["leaflet"] == "1.9.4" and "leaflet-measure" in v and "leaflet.fullscreen" in v
    css = inline_css("leaflet/leaflet.css")
    assert "images/layers.png" not in css and "data:image/png;base64," in css
    assert "marker-icon.png" not in css  # not shipped, so no request for it


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None

if given is not None:
    lons = st.floats(min_value=100.0, max_value=125.0, allow_nan=False)
    lats = st.floats(min_value=20.0, max_value=45.0, allow_nan=False)

    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.tuples(lons, lats), min_size=3, max_size=8), st.integers(min_value=1, max_value=3))
    def test_shift_geojson_keeps_structure_and_matches_convert(pts, nparts):
        from parkscan.aoi.datum import convert

        ring = [list(p) for p in pts] + [list(pts[0])]
        geoms = [
            {"type": "Point", "coordinates": list(pts[0])},
            {"type": "LineString", "coordinates": [list(p) for p in pts]},
            {"type": "Polygon", "coordinates": [ring, ring[:4] + [ring[0]]]},
            {"type": "MultiPolygon", "coordinates": [[ring]] * nparts},
            {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": list(pts[1])}]},
        ]
        fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": g} for g in geoms]}
        same = shift_geojson(fc, "wgs84")
        assert same == fc and same is not fc
        out = shift_geojson(fc, "gcj02")
        assert fc["features"][0]["geometry"]["coordinates"] == list(pts[0])  # input untouched
        ex, ey = convert(np.array([p[0] for p in pts]), np.array([p[1] for p in pts]), "wgs84", "gcj02")
        line = np.asarray(out["features"][1]["geometry"]["coordinates"])
        np.testing.assert_allclose(line[:, 0], ex, atol=1e-9)
        np.testing.assert_allclose(line[:, 1], ey, atol=1e-9)
        mp = out["features"][3]["geometry"]["coordinates"]
        assert len(mp) == nparts and len(mp[0][0]) == len(ring)
        assert len(out["features"][2]["geometry"]["coordinates"][1]) == 5
        gc = out["features"][4]["geometry"]["geometries"][0]["coordinates"]
        np.testing.assert_allclose(gc, [ex[1], ey[1]], atol=1e-9)
