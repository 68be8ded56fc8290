"""Static maps (PNG/PDF pixel statistics, CJK), the layers folder round trip and `parkscan map`."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from parkscan.aoi.errors import ParkscanError
from parkscan.maps import RasterLayer, TrackLayer, VectorLayer
from parkscan.maps.io import LayersIOError, load_layers, save_layers
from parkscan.maps.static import cjk_font, render_static


def _png_stats(path):
    import matplotlib.image as mpimg

    img = (mpimg.imread(path)[..., :3] * 255).astype(np.uint8)
    bg = np.median(img.reshape(-1, 3), axis=0)
    nonbg = float(np.mean(np.any(np.abs(img.astype(int) - bg) > 12, axis=2)))
    return img, nonbg, len(np.unique(img.reshape(-1, 3)[::7], axis=0))


def test_static_png_has_content(layers, tmp_path):
    p = render_static(layers, tmp_path / "m.png", title="Test park", attributions=["Contains modified Copernicus Sentinel data 2024"], dpi=60)
    img, nonbg, colours = _png_stats(p)
    assert img.shape[1] > 500
    assert nonbg > 0.05 and colours > 30, (nonbg, colours)
    # the approved boundary is red: some strongly red pixels exist
    assert np.sum((img[..., 0] > 180) & (img[..., 1] < 80) & (img[..., 2] < 80)) > 50


def test_static_pdf(layers, tmp_path):
    p = render_static(layers, tmp_path / "m.pdf", title="测试园区", lang="zh", dpi=60)
    data = p.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5_000
    if cjk_font() is not None:  # the Chinese title is real text in an embedded (subset) CJK font
        assert b"NotoSansCJK" in data and b"/FontFile" in data


def test_dollar_signs_in_user_text_are_printed_not_parsed_as_tex(tmp_path):
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "A$\\frac$", "industry": "$\\x$"},
          "geometry": {"type": "Polygon", "coordinates": [[[120, 31], [120.1, 31], [120.1, 31.1], [120, 31]]]}}]}
    layers = [VectorLayer("Park $\\undefined$", fc, kind="approved"),
              VectorLayer("Firms $\\q$", fc, kind="enterprises", color_by="industry")]
    p = render_static(layers, tmp_path / "m.pdf", title="Cost $\\bad{$ park", attributions=["$\\zz$ data"], dpi=40)
    assert p.read_bytes().startswith(b"%PDF")


def test_cjk_title_renders_without_missing_glyphs(layers, tmp_path):
    if cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # matplotlib: "Glyph ... missing from font"
        p = render_static(layers, tmp_path / "zh.png", title="测试园区 — 园区筛查", subtitle="桌面筛查", lang="zh", dpi=60)
    assert p.exists()


def test_cjk_missing_font_warns(layers, tmp_path, monkeypatch):
    import parkscan.maps.static as st

    monkeypatch.setattr(st, "cjk_font", lambda: None)
    with pytest.warns(st.MissingFontWarning):
        st.render_static(layers[:1], tmp_path / "x.png", title="测试", dpi=40)


def test_static_errors(layers, tmp_path):
    with pytest.raises(ParkscanError, match="png or pdf"):
        render_static(layers, tmp_path / "m.svg", title="x")
    with pytest.raises(ParkscanError, match="nothing to draw"):
        render_static([VectorLayer("e", {"type": "FeatureCollection", "features": []})], tmp_path / "m.png", title="x")


def test_scale_bar_length():
    from parkscan.maps.static import _nice_length

    assert _nice_length(5000) == 1000
    assert _nice_length(3100) == 500
    assert _nice_length(12000) == 2000


def test_layers_round_trip(layers, tmp_path):
    save_layers(layers, tmp_path / "layers")
    back = load_layers(tmp_path / "layers")
    assert [type(a) for a in layers] == [type(b) for b in back]
    for a, b in zip(layers, back):
        assert a.name == b.name
        if isinstance(a, VectorLayer):
            assert a.features == b.features and a.kind == b.kind and tuple(a.popup_fields) == b.popup_fields
            assert a.color_by == b.color_by
        elif isinstance(a, TrackLayer):
            np.testing.assert_allclose(a.values, b.values)
            np.testing.assert_allclose(a.lon, b.lon)
            assert a.unit == b.unit
        elif isinstance(a, RasterLayer):
            np.testing.assert_array_equal(a.image, b.image)
            assert a.bounds == b.bounds and a.group == b.group and a.time == b.time


def test_load_layers_errors(tmp_path):
    with pytest.raises(LayersIOError, match="index.json"):
        load_layers(tmp_path)
    (tmp_path / "index.json").write_text('{"layers": [{"file": "00_x", "type": "vector"}]}')
    with pytest.raises(LayersIOError, match="00_x.json"):
        load_layers(tmp_path)
    (tmp_path / "index.json").write_text('{"layers": [{"file": "../../etc/passwd", "type": "vector"}]}')
    with pytest.raises(LayersIOError, match="no plain 'file' name"):
        load_layers(tmp_path)
    (tmp_path / "index.json").write_text('{"layers": [{"file": "00_x"}]}')
    (tmp_path / "00_x.json").write_text('{"type": "vector"}')  # no name
    (tmp_path / "00_x.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(LayersIOError, match="00_x.json: missing or malformed field"):
        load_layers(tmp_path)
    (tmp_path / "index.json").write_text('[1, 2]')
    with pytest.raises(LayersIOError, match="no 'layers' list"):
        load_layers(tmp_path)


@pytest.fixture()
def screening_dir(layers, tmp_path):
    d = tmp_path / "screen"
    save_layers(layers, d / "layers")
    (d / "summary.json").write_text(json.dumps({"park": {"name": "测试园区"}, "lang": "zh",
                                                "attributions": ["Contains modified Copernicus Sentinel data 2024"]}),
                                    encoding="utf-8")
    return d


@pytest.mark.parametrize("fmt", ["html", "png", "pdf"])
def test_cli_map(screening_dir, tmp_path, fmt):
    from parkscan.diagnostics.cli import cli

    out = tmp_path / f"m.{fmt}"
    args = ["map", str(screening_dir), "--out", str(out)] + (["--dpi", "60"] if fmt != "html" else [])
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert out.exists() and out.stat().st_size > 5_000
    if fmt == "html":
        html = out.read_text(encoding="utf-8")
        assert "测试园区 — 园区筛查" in html and "Copernicus" in html and "图例" in html


def test_cli_map_user_errors(screening_dir, tmp_path, monkeypatch):
    from parkscan.diagnostics.cli import cli

    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    res = CliRunner().invoke(cli, ["map", str(screening_dir), "--out", str(tmp_path / "m.html"), "--basemap", "tianditu"])
    assert res.exit_code == 1 and "TIANDITU_KEY" in res.output
    res = CliRunner().invoke(cli, ["map", str(tmp_path), "--out", str(tmp_path / "m.html")])
    assert res.exit_code == 1 and "index.json" in res.output
    from parkscan.aoi.options import set_options

    with set_options(http_retries=0, cache_dir=str(tmp_path / "cache")):  # the network is blocked in tests
        res = CliRunner().invoke(cli, ["map", str(screening_dir), "--out", str(tmp_path / "m.png"), "--basemap", "osm"])
    assert res.exit_code == 1 and "basemap" in res.output and "none" in res.output, res.output
