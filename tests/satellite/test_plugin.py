"""The built-in ``satellite`` diagnostic on a planted scenario, alone and through screen()."""
from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest

from parkscan.aoi.errors import NotDetectableWarning, SourceIOError
from parkscan.diagnostics.registry import ScreenContext, registered
from parkscan.diagnostics.satellite import run
from parkscan.maps.layers import RasterLayer, VectorLayer

from _sat_paths import GPPD_CHINA, NO2_HEADER, real

TIF = "thermal/LC08_L2SP_118038_20200806_20200916_02_T1_ST_B10.TIF"
CSV = "fires/firms_viirs_snpp.csv"


def _km(park, a, b):
    xa, ya = park.lonlat_to_xy(*a)
    xb, yb = park.lonlat_to_xy(*b)
    return float(np.hypot(xa - xb, ya - yb)) / 1000


@pytest.fixture(scope="module")
def result(scene):
    out, park, truth = scene
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run(park, ScreenContext(), no2=[out / "s5p"], thermal=out / TIF, fires=out / CSV)
    return res


def test_registered():
    spec = {s.name: s for s in registered()}["satellite"]
    assert spec.inputs == ("no2", "so2", "thermal", "fires", "wind", "reference")
    assert spec.label == {"en": "Satellite hotspots", "zh": "卫星热点"}


def test_findings_match_the_planted_truth(scene, result):
    _, park, truth = scene
    kinds = [f.kind for f in result.findings]
    assert kinds.count("no2_enhancement") == 1
    no2 = next(f for f in result.findings if f.kind == "no2_enhancement")
    assert no2.evidence["z"] > 3 and no2.evidence["emission_status"] in ("detected", "near_detection_limit")
    assert no2.evidence["wind_source"].startswith("scenario")
    assert _km(park, (no2.geometry.x, no2.geometry.y), (truth["no2"]["lon"], truth["no2"]["lat"])) < 2.5
    roofs = {f.enterprise_id for f in result.findings if f.kind == "thermal_anomaly"}
    assert {r["enterprise_id"] for r in truth["hot_roofs"]} <= roofs
    heat = {f.enterprise_id for f in result.findings if f.kind == "heat_source"}
    assert heat == {h["enterprise_id"] for h in truth["heat_sources"]}
    for f in result.findings:
        assert 0 <= f.severity <= 1 and 0 <= f.confidence <= 1 and f.explain["en"] and f.explain["zh"]
        assert f.sources and all(s in {i.id for i in result.inputs} for s in f.sources)
        json.dumps(f.to_feature())


def test_indicators_layers_inputs_attributions(result):
    ind = result.indicators
    assert "±" in ind["no2_enhancement"]["value"] and ind["no2_enhancement"]["unit"] == "µmol/m²"
    assert ind["heat_sources"]["value"] == 2 and ind["thermal_anomalies"]["value"] >= 3
    assert ind["heat_source_persistence_max"]["value"] > 0.1
    rasters = [l for l in result.layers if isinstance(l, RasterLayer)]
    assert len(rasters) == 2
    for r in rasters:
        assert r.image.dtype == np.uint8 and r.image.ndim == 3 and r.image.shape[2] == 4
        (s, w), (n, e) = r.bounds
        assert s < n and w < e and 31 < s < 32 and 120 < w < 121
    hs = [l for l in result.layers if isinstance(l, VectorLayer) and l.kind == "heat_sources"]
    assert len(hs) == 1 and len(hs[0].features["features"]) >= 3
    kinds = {i.kind for i in result.inputs}
    assert kinds == {"no2", "thermal", "fires"} and all(i.sha256 and len(i.sha256) == 64 for i in result.inputs)
    assert result.attributions[0] == "Contains modified Copernicus Sentinel data 2020"
    assert "NASA FIRMS (VIIRS/MODIS active fires)" in result.attributions and "USGS Landsat" in result.attributions
    assert result.coverage["status"] == "ok"
    assert result.methods["en"] and result.methods["zh"] and all(l["en"] and l["zh"] for l in result.limitations)


def test_not_detectable_is_not_zero(scene, tmp_path):
    _, park, _ = scene
    from _sat_s5p import field_file

    for d in range(6):
        field_file(tmp_path, day=d, lon0=park.footprint.centroid.x, lat0=park.footprint.centroid.y,
                   field=lambda lo, la: 2e-5 + 0 * lo, noise=1.5e-5, nscan=30, npix=26)
    with pytest.warns(NotDetectableWarning):
        res = run(park, ScreenContext(), no2=[tmp_path], wind={"from_deg": 90, "speed_ms": 3})
    assert res.indicators["no2_enhancement"]["value"].startswith("not detectable (<")
    assert res.indicators["no2_emission"]["value"].startswith("not detectable")
    assert not [f for f in res.findings if f.kind == "no2_enhancement"]


def test_metadata_only_file_is_a_clear_error(scene, tmp_path):
    _, park, _ = scene
    with pytest.raises(SourceIOError, match="no PRODUCT/nitrogendioxide_tropospheric_column"):
        run(park, ScreenContext(), no2=[real("s5p-l2-headers", NO2_HEADER)])


def test_reference_layer_and_partial_coverage(scene, tmp_path):
    out, park, _ = scene
    hdr = tmp_path / NO2_HEADER
    shutil.copy(real("s5p-l2-headers", NO2_HEADER), hdr)
    res = run(park, ScreenContext(lang="zh"), no2=[hdr], fires=out / CSV, reference=real(*GPPD_CHINA))
    assert res.coverage["status"] == "partial" and NO2_HEADER in res.coverage["detail"]
    assert "WRI Global Power Plant Database, CC BY 4.0" in res.attributions
    assert res.indicators["power_plants_near"]["value"] is not None
    assert [l.name for l in res.layers if isinstance(l, VectorLayer)][0] == "持续热源（FIRMS）"


def test_through_screen_and_write(scene, tmp_path):
    from parkscan.diagnostics import screen

    out, park, _ = scene
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = screen(park, no2=[out / "s5p"], thermal=out / TIF, fires=out / CSV)
        files = s.write(tmp_path / "out")
    fc = json.loads((tmp_path / "out" / "findings.geojson").read_text())
    kinds = {f["properties"]["kind"] for f in fc["features"]}
    assert {"no2_enhancement", "thermal_anomaly", "heat_source"} <= kinds
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert "satellite" in json.dumps(summary)
    assert files


def test_so2_files_go_to_so2(scene, tmp_path):
    """SO2 files (even when passed as no2=) are detected by product and give so2_enhancement."""
    from _sat_s5p import field_file
    from _sat_scene import plume_field

    _, park, _ = scene
    c = park.footprint.centroid
    f = plume_field((c.x, c.y), 1.5, 4.0, 270.0)  # a strong SO2 source (mol-based plume from the NO2 helper)
    for d in range(6):
        field_file(tmp_path, product="SO2", day=d, lon0=c.x, lat0=c.y, field=f, noise=1.5e-5, nscan=30, npix=26)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run(park, ScreenContext(), no2=[tmp_path], wind={"from_deg": 270, "speed_ms": 4})
    kinds = [f.kind for f in res.findings]
    assert kinds == ["so2_enhancement"]
    ev = res.findings[0].evidence
    assert ev["product"] == "SO2" and ev["detection_limit_kg_s"][0] == pytest.approx(0.2535, abs=1e-3)
    assert "±" in res.indicators["so2_enhancement"]["value"] and "no2_enhancement" not in res.indicators
    assert res.attributions == ["Contains modified Copernicus Sentinel data 2020"]
    assert {i.kind for i in res.inputs} == {"so2"}


def test_cloudy_landsat_is_reported(scene, tmp_path):
    import rasterio

    out, park, _ = scene
    src = out / TIF
    dst = tmp_path / src.name
    shutil.copy(src, dst)
    with rasterio.open(src) as s:
        prof = s.profile
        qa = np.zeros((s.height, s.width), "uint16")
    qa[: qa.shape[0] // 2] = 1 << 3  # the northern half is cloud
    prof.update(nodata=None)
    with rasterio.open(tmp_path / src.name.replace("_ST_B10", "_QA_PIXEL"), "w", **prof) as d:
        d.write(qa, 1)
    res = run(park, ScreenContext(), thermal=dst)
    assert 0.3 < res.coverage["cloud"] < 0.7
    assert any("cloud" in lim["en"] for lim in res.limitations)
