"""Real-browser tests: the offline map in headless Debian Chromium, every request recorded."""
from __future__ import annotations

import time

import numpy as np

import pytest

from parkscan.maps.interactive import render_map, save_html

pytestmark = pytest.mark.browser


def _stats(img):
    import numpy as np

    bg = np.median(img.reshape(-1, 3), axis=0)
    nonbg = float(np.mean(np.any(np.abs(img.astype(int) - bg) > 12, axis=2)))
    return nonbg, len(np.unique(img.reshape(-1, 3)[::7], axis=0))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_offline_map_in_chromium(chromium, layers, tmp_path, lang):
    t0 = time.perf_counter()
    fmap = render_map(layers, title="测试园区 <script>alert(3)</script>", lang=lang,
                      attributions=["Contains modified Copernicus Sentinel data 2024"])
    path = save_html(fmap, tmp_path / f"map_{lang}.html")
    page = chromium.open(path.resolve().as_uri())
    assert page.external_requests == [], f"external requests: {page.external_requests[:5]}"
    assert page.failed_requests == [], f"failed loads: {page.failed_requests[:5]}"
    assert page.errors == [], f"JS errors: {page.errors[:5]}"
    assert page.dialogs == [], f"a script opened a dialog (XSS): {page.dialogs}"
    info = page.eval("""(() => ({
        leaflet: typeof L !== 'undefined' ? L.version : null,
        jquery: typeof window.jQuery,
        map: document.querySelectorAll('.leaflet-container').length,
        overlays: Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label')).map(l => l.textContent.trim()),
        legend: (document.querySelector('.ps-legend') || {}).textContent || '',
        title: (document.querySelector('.ps-title') || {}).textContent || '',
        paths: document.querySelectorAll('.leaflet-overlay-pane path').length,
        images: document.querySelectorAll('.leaflet-image-layer').length,
        scale: document.querySelectorAll('.leaflet-control-scale').length,
        fullscreen: document.querySelectorAll('.leaflet-control-zoom-fullscreen, .fullscreen-icon').length,
        measure: document.querySelectorAll('.leaflet-control-measure').length,
        swipe: document.querySelectorAll('.ps-swipe input[type=range]').length,
        time: document.querySelectorAll('.ps-time input[type=range]').length,
        attribution: (document.querySelector('.leaflet-control-attribution') || {}).textContent || '',
        injected: document.querySelectorAll('img[src="x"], script:not([src])').length,
    }))()""")
    assert info["leaflet"] == "1.9.4"
    assert info["jquery"] == "undefined"  # not shipped, and nothing needed it
    assert info["map"] == 1
    for name in ("Approved boundary", "Managed boundary", "Enterprises", "Findings", "NO2 track", "Land-cover change", "Before", "After"):
        assert name in info["overlays"], (name, info["overlays"])
    assert ("Legend" if lang == "en" else "图例") in info["legend"]
    assert "Land-cover change" in info["legend"] and "NO2" in info["legend"]
    assert "<script>alert(3)</script>" in info["title"]  # shown as text
    assert info["paths"] >= 8 and info["images"] >= 3
    assert info["scale"] == 1 and info["fullscreen"] >= 1 and info["measure"] == 1
    assert info["swipe"] == 1 and info["time"] == 1
    assert "Copernicus" in info["attribution"]
    # open every popup: hostile names must appear as text, and no element may be injected
    shown = page.eval("""(() => {
        const out = [];
        const m = Object.values(window).find(v => v && v instanceof L.Map);
        m.eachLayer(l => { if (l.getPopup && l.getPopup()) { l.openPopup(); const e = l.getPopup().getElement();
                                                         const c = e && e.querySelector('.leaflet-popup-content');
                                                         if (c) out.push(c.textContent); } });
        return out;
    })()""")
    text = " ".join(shown)
    assert "<script>alert(1)</script>" in text and "onerror=alert(2)" in text
    assert page.eval("document.querySelectorAll('.leaflet-popup-content img, .leaflet-popup-content script').length") == 0
    page.b.pump(0.3)
    assert page.dialogs == [] and page.errors == []
    # swipe: moving the slider clips the 'after' image
    clip = page.eval("""(() => { const r = document.querySelector('.ps-swipe input'); r.value = 25;
        r.dispatchEvent(new Event('input')); const imgs = document.querySelectorAll('.leaflet-image-layer');
        return Array.from(imgs).map(i => i.style.clipPath).filter(Boolean); })()""")
    assert any(c.startswith("inset(") for c in clip), clip
    # the legend follows the layer control: switching a layer off hides its legend section
    legend = page.eval("""(() => {
        const label = Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))
            .find(l => l.textContent.trim() === 'Land-cover change');
        const visible = () => Array.from(document.querySelectorAll('.ps-legend-section'))
            .filter(d => d.style.display !== 'none').map(d => d.textContent).join(' | ');
        const before = visible();
        label.querySelector('input').click();
        const after = visible();
        label.querySelector('input').click();
        return [before, after, visible()];
    })()""")
    assert "New built-up" in legend[0] and "New built-up" not in legend[1] and "New built-up" in legend[2], legend
    # the date slider switches the LST layers; zooming works without errors
    page.eval("""(() => { const r = document.querySelector('.ps-time input'); r.value = 0; r.dispatchEvent(new Event('input'));
        const m = Object.values(window).find(v => v && v instanceof L.Map); m.setZoom(m.getZoom() + 1, {animate: false}); })()""")
    page.b.pump(0.3)
    assert page.eval("document.querySelector('.ps-time-label').textContent") == "2024-07-01"
    # measure tool: real mouse clicks through the DevTools protocol (it creates markers: no icon file may be requested)
    page.eval("""(() => { const t = document.querySelector('.leaflet-control-measure-toggle');
        t.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})); t.click();
        document.querySelector('.js-start').click(); })()""")
    for x, y in ((400, 400), (650, 450), (650, 650)):
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            page.b.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}, page.sid)
        page.b.pump(0.15)
    result = page.eval("(document.querySelector('.js-results') || {}).textContent || ''")
    assert ("公顷" if lang == "zh" else "Hectares") in result, result
    page.eval("(() => { const c = document.querySelector('.js-cancel'); if (c) c.click(); })()")
    assert page.errors == [] and page.external_requests == []
    nonbg, colours = _stats(page.screenshot())
    assert nonbg > 0.05 and colours > 20, (nonbg, colours)
    assert time.perf_counter() - t0 < 30


def test_tile_basemap_requests_only_the_tile_server(chromium, layers, tmp_path, tile_server):
    """With a tile background the page requests tiles from that server and nothing else."""
    from parkscan.maps.basemaps import Basemap, TileSpec

    bm = Basemap("local", (TileSpec(tile_server.url + "/{z}/{x}/{y}.png", "Local tiles &copy; test", "Local", subdomains=""),))
    path = save_html(render_map(layers[:5], title="tiles", basemap=bm), tmp_path / "tiles.html")
    page = chromium.open(path.resolve().as_uri(), settle=1.5)
    assert page.errors == [], page.errors[:5]
    others = [u for u in page.external_requests if not u.startswith(tile_server.url + "/")]
    assert others == [], others[:5]
    assert len(tile_server.hits) >= 4 and all(h.endswith(".png") for h in tile_server.hits)
    assert "Local tiles" in page.eval("document.querySelector('.leaflet-control-attribution').textContent")
    img = page.screenshot()
    near = np.all(np.abs(img.astype(int) - np.array([0, 190, 255])) < 20, axis=2)
    assert near.mean() > 0.3  # the tiles fill the background


PARK = """{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"测试园区","role":"approved"},
"geometry":{"type":"Polygon","coordinates":[[[113.30,23.10],[113.34,23.10],[113.34,23.13],[113.30,23.13],[113.30,23.10]]]}}]}"""
ENTERPRISES = """统一社会信用代码,企业名称,经度,纬度,所属行业
E1,"<script>alert(1)</script>",113.305,23.105,化工
E2,\"\"\"><img src=x onerror=alert(2)>\",113.315,23.112,涂装
E3,Good Co,113.325,23.118,电子
"""


def test_screening_report_and_map_in_chromium(chromium, tmp_path):
    """report.html and map.html of a real `parkscan screen` run (hostile enterprise names) render offline, no errors."""
    from click.testing import CliRunner

    from parkscan.diagnostics.cli import cli

    assert "screen" in cli.list_commands(None)
    (tmp_path / "park.geojson").write_text(PARK, encoding="utf-8")
    (tmp_path / "ent.csv").write_text(ENTERPRISES, encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["screen", str(tmp_path / "park.geojson"), "--enterprises", str(tmp_path / "ent.csv"),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output[-500:]
    for name in ("report.html", "map.html"):
        assert (out / name).is_file(), f"the screening wrote no {name}"
        page = chromium.open((out / name).resolve().as_uri())
        assert page.external_requests == [], (name, page.external_requests[:5])
        assert page.errors == [], (name, page.errors[:5])
        assert page.dialogs == [], (name, page.dialogs)
        assert page.eval("document.querySelectorAll('img[src=\"x\"]').length") == 0
        nonbg, colours = _stats(page.screenshot())
        assert nonbg > 0.05 and colours > 20, (name, nonbg, colours)
