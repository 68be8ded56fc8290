"""Registered farmland (三调 / 永久基本农田 polygons or a raster) now built-up or bare: farmland_loss findings."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner


def _farmland(scene, path, *, crs="EPSG:4326"):
    """Two farmland parcels: one over the new built-up and bare-soil blocks, one over cropland that stays cropland."""
    import geopandas as gpd
    from shapely.geometry import box

    g, after, before = scene["grid"], scene["after_map"], scene["before_map"]
    rows, cols = np.nonzero((after != before) & np.isin(after, (1, 5)))
    x0, y1 = g.transform * (cols.min() - 2, rows.min() - 2)
    x1, y0 = g.transform * (cols.max() + 3, rows.max() + 3)
    occupied = box(x0, y0, x1, y1)
    cx0, cy1 = g.transform * (2, 30)
    cx1, cy0 = g.transform * (12, 50)
    kept = box(cx0, cy0, cx1, cy1)  # inside the cropland strip (before and after cropland)
    gdf = gpd.GeoDataFrame({"DLMC": ["水浇地", "旱地"]}, geometry=[occupied, kept], crs=g.crs).to_crs(crs)
    gdf.to_file(path)
    new_ha = float(((after != before) & np.isin(after, (1, 5))).sum() * 0.01)
    return path, new_ha


def test_farmland_layer_reports_occupied_parcels(scene, tmp_path):
    from parkscan.diagnostics.landcover import run
    from parkscan.diagnostics.registry import ScreenContext

    path, new_ha = _farmland(scene, tmp_path / "farmland.gpkg")
    res = run(scene["park"], ScreenContext(params={"ring_m": 600, "landcover_farmland": str(path)}),
              imagery=str(scene["imagery"]), before=scene["before"], after=scene["after"])
    farm = [f for f in res.findings if f.kind == "farmland_loss"]
    assert {f.evidence["to"] for f in farm} == {"built_up", "bare_soil"}
    assert sum(f.evidence["area_ha"] for f in farm) == pytest.approx(new_ha, rel=0.15)
    for f in farm:
        ev = f.evidence
        assert ev["farmland_source"] == "farmland.gpkg" and ev["new_since_before_fraction"] > 0.9
        assert ev["ci95_ha"] is not None and ev["area_adjusted_ha"] <= ev["area_ha"]
        assert "registered farmland" in f.explain["en"] and "登记耕地" in f.explain["zh"] and "新增" in f.explain["zh"]
    ind = res.indicators
    assert ind["farmland_built_or_bare_ha"] == pytest.approx(new_ha, rel=0.15)
    assert ind["farmland_registered_ha"] > ind["farmland_built_or_bare_ha"]
    assert "registered farmland layer farmland.gpkg" in res.methods["en"] and "登记耕地图层" in res.methods["zh"]
    item = [i for i in res.inputs if i.kind == "farmland"]
    assert len(item) == 1 and len(item[0].sha256) == 64
    # without the layer, the same change is not called farmland loss (the area was mapped vegetation before)
    plain = run(scene["park"], ScreenContext(params={"ring_m": 600}), imagery=str(scene["imagery"]),
                before=scene["before"], after=scene["after"])
    assert not [f for f in plain.findings if f.kind == "farmland_loss" and f.evidence.get("farmland_source")]


def test_farmland_raster_with_codes(scene, tmp_path):
    import rasterio

    from parkscan.diagnostics.landcover import run
    from parkscan.diagnostics.registry import ScreenContext

    g = scene["grid"]
    wc = np.where(scene["before_map"] == 2, 40, 10).astype(np.uint8)  # WorldCover: 40 cropland, 10 trees
    after, before = scene["after_map"], scene["before_map"]
    wc[(after != before) & np.isin(after, (1, 5))] = 40  # the new blocks were cropland in the reference year
    with rasterio.open(tmp_path / "wc.tif", "w", driver="GTiff", dtype="uint8", count=1, height=g.height, width=g.width,
                       crs=g.crs, transform=g.transform, nodata=0) as dst:
        dst.write(wc, 1)
    res = run(scene["park"], ScreenContext(params={"ring_m": 600, "landcover_farmland": str(tmp_path / "wc.tif"),
                                                   "landcover_farmland_codes": [40]}),
              imagery=str(scene["imagery"]), before=scene["before"], after=scene["after"])
    farm = [f for f in res.findings if f.kind == "farmland_loss"]
    assert {f.evidence["to"] for f in farm} >= {"built_up"}
    assert res.indicators["farmland_registered_ha"] == pytest.approx((wc == 40).sum() * 0.01, rel=0.05)
    # the wrong code: no farmland in the window is said, not silently reported as "no loss"
    res = run(scene["park"], ScreenContext(params={"ring_m": 600, "landcover_farmland": str(tmp_path / "wc.tif"),
                                                   "landcover_farmland_codes": [41]}),
              imagery=str(scene["imagery"]), before=scene["before"], after=scene["after"])
    assert not [f for f in res.findings if f.kind == "farmland_loss" and f.evidence.get("farmland_source")]
    assert any("has no farmland inside the park" in lim["en"] for lim in res.limitations)


def test_bad_farmland_files_say_what_to_do(scene, tmp_path):
    from parkscan.aoi.errors import ParkscanError
    from parkscan.diagnostics.landcover import run
    from parkscan.diagnostics.registry import ScreenContext

    (tmp_path / "broken.geojson").write_text("{not json", encoding="utf-8")
    nocrs = tmp_path / "nocrs.tif"
    import rasterio

    with rasterio.open(nocrs, "w", driver="GTiff", dtype="uint8", count=1, height=4, width=4) as dst:
        dst.write(np.ones((1, 4, 4), np.uint8))
    for path, msg in ((tmp_path / "broken.geojson", "cannot read the farmland polygons"), (nocrs, "has no CRS")):
        with pytest.raises(ParkscanError, match=msg) as err:
            run(scene["park"], ScreenContext(params={"ring_m": 600, "landcover_farmland": str(path)}),
                imagery=str(scene["imagery"]), before=scene["before"], after=scene["after"])
        assert path.name in str(err.value)


def test_screen_cli_farmland_and_model_options(scene, tmp_path):
    from parkscan.diagnostics.cli import cli

    from .test_cli_plugin import _park_file

    pf = _park_file(scene["park"], tmp_path / "park.geojson")
    path, _ = _farmland(scene, tmp_path / "farmland.geojson")
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["screen", str(pf), "--imagery", str(scene["imagery"]), "--before", scene["before"],
                                 "--after", scene["after"], "--farmland", str(path), "--mmu-ha", "0.3", "--out", str(out)])
    assert r.exit_code == 0, r.output
    fc = json.loads((out / "findings.geojson").read_text(encoding="utf-8"))
    kinds = [f["properties"]["kind"] for f in fc["features"]]
    assert "farmland_loss" in kinds
    r = CliRunner().invoke(cli, ["screen", str(pf), "--farmland", str(path), "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "--imagery" in r.output
    r = CliRunner().invoke(cli, ["screen", str(pf), "--imagery", str(scene["imagery"]), "--farmland", str(path),
                                 "--farmland-codes", "forty", "--out", str(tmp_path / "y")])
    assert r.exit_code == 2 and "--farmland-codes" in r.output


def test_screen_cli_uses_a_trained_model(scene, tmp_path):
    """`landcover train` → `screen --landcover-model`: the screening classifies with the model and says so."""
    from parkscan.diagnostics.cli import cli

    from .test_cli_plugin import _park_file

    import rasterio

    g = scene["grid"]
    wc = {1: 50, 2: 40, 3: 10, 4: 80, 5: 60}
    ref = np.vectorize(wc.get)(scene["after_map"]).astype(np.uint8)
    with rasterio.open(tmp_path / "wc.tif", "w", driver="GTiff", dtype="uint8", count=1, height=g.height, width=g.width,
                       crs=g.crs, transform=g.transform, nodata=0) as dst:
        dst.write(ref, 1)
    pf = _park_file(scene["park"], tmp_path / "park.geojson")
    runner = CliRunner()
    r = runner.invoke(cli, ["landcover", "train", str(scene["imagery"]), "--reference", str(tmp_path / "wc.tif"),
                            "--park", str(pf), "--ring-m", "600", "--period", scene["after"], "--block-px", "20",
                            "--estimator", "et", "--lines", "--out", str(tmp_path / "m.joblib")])
    assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    r = runner.invoke(cli, ["screen", str(pf), "--imagery", str(scene["imagery"]), "--before", scene["before"],
                            "--after", scene["after"], "--landcover-model", str(tmp_path / "m.joblib"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "a trained machine-learning model (extra-trees trained on wc.tif)" in report  # the methods paragraph
    fc = json.loads((out / "findings.geojson").read_text(encoding="utf-8"))
    assert "built_up_outside_approved" in [f["properties"]["kind"] for f in fc["features"]]
    r = runner.invoke(cli, ["screen", str(pf), "--imagery", str(scene["imagery"]), "--landcover-model", str(tmp_path / "m.joblib"),
                            "--landcover-reference", str(tmp_path / "wc.tif"), "--out", str(tmp_path / "z")])
    assert r.exit_code == 2 and "not both" in r.output
