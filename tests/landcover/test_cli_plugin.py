"""The CLI (sample → assess round trip, train → predict) and the screening plugin on a small synthetic scene."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from parkscan.diagnostics.cli import cli


def _park_file(park, path):
    from shapely.geometry import mapping

    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": park.name, "role": "approved"}, "geometry": mapping(park.approved)},
        {"type": "Feature", "properties": {"name": park.name, "role": "managed"}, "geometry": mapping(park.managed)}]}
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    return path


def test_sample_assess_roundtrip(tmp_path):
    import rasterio
    from affine import Affine

    from parkscan.models.landcover.classes import PARK_CLASSES

    rng = np.random.default_rng(0)
    truth = np.full((120, 100), 3, np.uint8)
    truth[:40, :50] = 1
    truth[90:, 60:] = 4
    truth[60:70, 10:30] = 5
    mapped = truth.copy()
    flip = rng.random(truth.shape) < 0.1  # 10 % of pixels mislabelled at random
    mapped[flip] = rng.integers(1, 6, flip.sum())
    prof = {"driver": "GTiff", "dtype": "uint8", "count": 1, "height": 120, "width": 100, "crs": "EPSG:32651",
            "transform": Affine(10, 0, 300000, 0, -10, 3460000), "nodata": 0}
    with rasterio.open(tmp_path / "map.tif", "w", **prof) as dst:
        dst.write(mapped, 1)
    r = CliRunner().invoke(cli, ["landcover", "sample", str(tmp_path / "map.tif"), "--out", str(tmp_path / "pts.csv"),
                                 "--n", "400", "--min-per-class", "40", "--seed", "1"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(open(tmp_path / "pts.csv", encoding="utf-8")))
    assert len(rows) == 400 and all(row["reference"] == "" for row in rows)
    assert min(sum(row["map_class"] == c for row in rows) for c in PARK_CLASSES) >= 40
    # assess refuses an uninterpreted sample, naming the row
    r = CliRunner().invoke(cli, ["landcover", "assess", str(tmp_path / "pts.csv")])
    assert r.exit_code == 1 and "row 2" in r.output
    # interpret the points from the truth raster, like an analyst would on imagery
    for row in rows:
        row["reference"] = PARK_CLASSES[truth[int(row["row"]), int(row["col"])] - 1]
    with open(tmp_path / "pts.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    r = CliRunner().invoke(cli, ["landcover", "assess", str(tmp_path / "pts.csv"), "--out", str(tmp_path / "acc.json")])
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "acc.json").read_text())
    for i, name in enumerate(PARK_CLASSES, start=1):
        true_ha = (truth == i).sum() * 0.01
        est, ci = rep["classes"][name]["area_ha"], rep["classes"][name]["ci95_ha"]
        assert abs(est - true_ha) < max(2.5 * ci, 1.0), (name, est, ci, true_ha)  # the interval covers the truth
    assert 0.85 < rep["overall"] < 0.97


def test_train_predict_cli(scene, tmp_path):
    import geopandas as gpd
    import rasterio
    from shapely.geometry import box

    g, park = scene["grid"], scene["park"]
    x0, y0 = g.transform.c, g.transform.f
    polys = [box(x0 + 20, y0 - 300, x0 + 200, y0 - 150), box(x0 + 800, y0 - 300, x0 + 1000, y0 - 100),
             box(x0 + 50, y0 - 140, x0 + 240, y0 - 60)]
    classes = []
    for p in polys:
        c, r = ~g.transform * p.centroid.coords[0]
        classes.append(["built_up", "cropland", "vegetation", "water", "bare_soil"][scene["before_map"][int(r), int(c)] - 1])
    lab = gpd.GeoDataFrame({"class": classes}, geometry=polys, crs=g.crs)
    # add the built-up core as a polygon too
    rows, cols = np.nonzero(scene["before_map"] == 1)
    bx0, by0 = g.transform * (cols.min(), rows.max() + 1)
    bx1, by1 = g.transform * (cols.max() + 1, rows.min())
    lab.loc[len(lab)] = ["industrial", box(bx0, by0, bx1, by1)]
    lab.to_file(tmp_path / "labels.gpkg")
    pf = _park_file(park, tmp_path / "park.geojson")
    runner = CliRunner()
    r = runner.invoke(cli, ["landcover", "train", str(scene["imagery"]), "--labels", str(tmp_path / "labels.gpkg"),
                            "--park", str(pf), "--ring-m", "600", "--period", scene["before"], "--out", str(tmp_path / "m.joblib"),
                            "--block-px", "20", "--estimator", "et"])
    assert r.exit_code == 0, r.output
    assert "blocked CV: OA" in r.output
    r = runner.invoke(cli, ["landcover", "predict", str(scene["imagery"]), "--model", str(tmp_path / "m.joblib"), "--park", str(pf),
                            "--ring-m", "600", "--period", scene["after"], "--out", str(tmp_path / "after.tif"), "--chunk", "64"])
    assert r.exit_code == 0, r.output
    with rasterio.open(tmp_path / "after.tif") as src:
        got = src.read(1)
    truth = scene["after_map"]
    ok = got > 0
    assert ok.mean() > 0.95  # the cloudy strip is the no-data part
    # classes seen in training are mapped well; the new built-up block is found
    assert (got[ok & (truth == 1)] == 1).mean() > 0.9
    r = runner.invoke(cli, ["landcover", "train", str(scene["imagery"]), "--out", str(tmp_path / "x.joblib")])
    assert r.exit_code == 2  # neither --labels nor --reference


def test_plugin_on_synthetic_scene(scene):
    from parkscan.diagnostics.registry import DiagnosticResult, ScreenContext, registered
    from parkscan.maps.layers import RasterLayer

    spec = {s.name: s for s in registered()}["landcover"]
    assert spec.inputs == ("imagery", "before", "after") and spec.label["zh"] == "土地覆盖与变化"
    res = spec.func(scene["park"], ScreenContext(params={"ring_m": 600}), imagery=str(scene["imagery"]),
                    before=scene["before"], after=scene["after"])
    assert isinstance(res, DiagnosticResult)
    kinds = [f.kind for f in res.findings]
    built = [f for f in res.findings if f.kind == "built_up_outside_approved"]
    assert len(built) == 1, kinds
    ev = built[0].evidence
    assert ev["area_ha"] == pytest.approx(scene["new_built_ha"], rel=0.1)
    assert ev["inside_managed"] is True and ev["from"] in ("vegetation", "cropland")
    # the shipped, measured rules accuracy gives an error-adjusted area with a 95 % CI
    assert ev["ci95_ha"] is not None and 0 < ev["area_adjusted_ha"] <= ev["area_ha"] and 0 < ev["p_correct"] <= 1
    assert ev["after_dates"] == ["2025-06-20"] and ev["before_dates"] == ["2023-06-15"]
    assert "managed" in built[0].explain["en"] and "托管" in built[0].explain["zh"]
    assert built[0].geometry.within(scene["park"].managed.buffer(0.001))
    assert "bare_soil" in kinds
    ind = res.indicators
    assert ind["built_up_share_outside_approved_change"] > 0
    assert abs(ind["built_up_share_approved_change"]) < 0.01
    assert ind["areas_by_class_approved_after"]["built_up"]["mapped_ha"] > 0
    tc = [l for l in res.layers if isinstance(l, RasterLayer) and l.group == "before_after"]
    assert len(tc) == 2 and all(l.image.dtype == np.uint8 and l.image.shape[-1] == 4 for l in tc)
    (s, w), (n, e) = tc[0].bounds
    assert 31.2 < s < n < 31.3 and 120.5 < w < e < 120.7
    assert res.attributions[:2] == ["Contains modified Copernicus Sentinel data 2023", "Contains modified Copernicus Sentinel data 2025"]
    assert len(res.inputs) == 2 and all(len(i.sha256) == 64 for i in res.inputs)
    assert res.inputs[1].extra["cloud_fraction"] > 0.0  # the SCL cloud strip was masked
    assert res.methods["en"] and res.methods["zh"] and res.limitations
    assert res.coverage["status"] == "ok"


def test_plugin_without_imagery_reports_missing(scene):
    from parkscan.diagnostics.landcover import run
    from parkscan.diagnostics.registry import ScreenContext

    res = run(scene["park"], ScreenContext())
    assert res.coverage["status"] == "missing" and not res.findings


def test_open_imagery_period_and_band_names(scene, pucallpa):
    from shapely.geometry import box

    from parkscan.aoi.errors import SourceIOError
    from parkscan.aoi.park import Park
    from parkscan.sources.imagery import open_imagery

    ds = open_imagery(scene["imagery"], scene["park"], period=scene["after"], ring_m=600)
    assert list(ds.data_vars) == ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"]
    assert ds["B04"].dims == ("time", "y", "x") and ds["B04"].dtype == np.float32
    assert ds.rio.crs == scene["park"].crs
    assert np.isnan(ds["B04"].values[0, :4]).all() and 0 < np.nanmax(ds["B04"].values) < 1
    with pytest.raises(SourceIOError, match="no image acquired"):
        open_imagery(scene["imagery"], scene["park"], period="2019-01-01/2019-12-31")
    # real Landsat composite with bands SWIR1, NIR, Red, Green (8-bit stretched, EPSG:4326)
    park = Park(id="pucallpa", name="Pucallpa", approved=box(-74.56, -8.42, -74.50, -8.36))
    lds = open_imagery(pucallpa / "2020.tif", park, band_names=("SWIR1", "NIR", "Red", "Green"), ring_m=1000, resolution=90)
    assert set(lds.data_vars) == {"B11", "B08", "B04", "B03"}
    assert lds.attrs["reflectance"] is False and lds.rio.crs == park.crs
    assert lds.sizes["x"] > 50


def test_pucallpa_city_growth_real_landsat(pucallpa):
    """Real Landsat 1985 vs 2020 (bands SWIR1, NIR, Red, Green): the city of Pucallpa grows, change is found."""
    from shapely.geometry import box

    from parkscan.aoi.park import Park
    from parkscan.models.landcover.analysis import cube_of
    from parkscan.models.landcover.change import detect_change
    from parkscan.models.landcover.indices import ndvi
    from parkscan.models.landcover.rules import classify_rules
    from parkscan.sources.imagery import open_imagery

    park = Park(id="pucallpa", name="Pucallpa", approved=box(-74.58, -8.42, -74.50, -8.36))
    names = ("SWIR1", "NIR", "Red", "Green")
    ds = {y: open_imagery(pucallpa / f"{y}.tif", park, band_names=names, ring_m=500, resolution=90) for y in (1985, 2020)}
    assert ds[1985].sizes == ds[2020].sizes  # identical grids across years
    maps = {y: classify_rules(*cube_of(d)) for y, d in ds.items()}
    built = {y: int((m == 1).sum()) for y, m in maps.items()}
    assert built[2020] > 1.5 * built[1985] > 0
    idx = {y: {"NDVI": ndvi({b: d[b].values[0] for b in d.data_vars})} for y, d in ds.items()}
    ch = detect_change(maps[1985], maps[2020], idx[1985], idx[2020], ds[2020].rio.transform(), ds[2020].rio.crs, mmu_ha=2.0)
    g = ch.polygons
    assert g[g["to"] == "built_up"]["area_ha"].sum() > 50
    assert 0.1 <= ch.thresholds["NDVI"] < 0.8


def test_plugin_trains_on_reference_raster(scene, tmp_path):
    import rasterio

    from parkscan.diagnostics.landcover import run
    from parkscan.diagnostics.registry import ScreenContext

    g = scene["grid"]
    wc = {1: 50, 2: 40, 3: 10, 4: 80, 5: 60}  # park code → WorldCover code
    ref = np.vectorize(wc.get)(scene["after_map"]).astype(np.uint8)
    prof = {"driver": "GTiff", "dtype": "uint8", "count": 1, "height": g.height, "width": g.width, "crs": g.crs,
            "transform": g.transform, "nodata": 0}
    with rasterio.open(tmp_path / "wc.tif", "w", **prof) as dst:
        dst.write(ref, 1)
    res = run(scene["park"], ScreenContext(params={"ring_m": 600, "landcover_reference": str(tmp_path / "wc.tif")}),
              imagery=str(scene["imagery"]), before=scene["before"], after=scene["after"])
    assert "random forest trained on wc.tif" in res.methods["en"] and "blocked CV" in res.methods["en"]
    assert any(i.kind == "reference" for i in res.inputs)
    built = [f for f in res.findings if f.kind == "built_up_outside_approved"]
    assert len(built) == 1 and built[0].evidence["area_ha"] == pytest.approx(scene["new_built_ha"], rel=0.1)
    assert built[0].evidence["ci95_ha"] is not None


def test_plugin_degrades_without_before_images(scene):
    from parkscan.diagnostics.landcover import run
    from parkscan.diagnostics.registry import ScreenContext

    res = run(scene["park"], ScreenContext(params={"ring_m": 600}), imagery=str(scene["imagery"]),
              before="2019-01-01/2019-12-31", after=scene["after"])
    assert res.coverage["status"] == "partial" and "before period" in res.coverage["detail"]
    assert not any(f.kind == "built_up_outside_approved" for f in res.findings)
    assert res.indicators["built_up_share_approved_after"] is not None
    # only a before period: the after period is everything acquired later
    res = run(scene["park"], ScreenContext(params={"ring_m": 600}), imagery=str(scene["imagery"]), before=scene["before"])
    assert res.coverage["status"] == "ok" and any(f.kind == "built_up_outside_approved" for f in res.findings)
