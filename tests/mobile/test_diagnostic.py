"""The mobile diagnostic plugin and ``parkscan mobile`` (CliRunner and the installed script on the real run)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

from parkscan.aoi import Park
from parkscan.diagnostics.cli import cli
from parkscan.diagnostics.registry import DiagnosticResult, ScreenContext, registered
from parkscan.maps.layers import TrackLayer, VectorLayer

from .conftest import ENTERPRISES

pytestmark = pytest.mark.filterwarnings("ignore::parkscan.aoi.errors.DataQualityWarning")


def test_registered_with_agreed_inputs():
    spec = {s.name: s for s in registered()}["mobile"]
    assert spec.inputs == ("mobile", "mobile_datum", "wind") and spec.label["zh"] == "走航监测"


def test_plugin_result(track_csv):
    import geopandas as gpd

    from parkscan.diagnostics.mobile import run

    ent = gpd.GeoDataFrame(ENTERPRISES.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(ENTERPRISES["lon"], ENTERPRISES["lat"]), crs=4326)
    park = Park(id="P", name="测试园区", approved=box(120.595, 31.295, 120.615, 31.31), enterprises=ent)
    res = run(park, ScreenContext(lang="zh"), mobile=[track_csv], mobile_datum="wgs84", wind=None)
    assert isinstance(res, DiagnosticResult) and res.name == "mobile"
    f = res.findings[0]
    assert f.kind == "mobile_hotspot" and f.enterprise_id == "E-TRUE"
    ev = f.evidence
    assert ev["passes"] >= 4 and ev["q_value"] < 0.05 and ev["wind"]["source"] == "file"
    assert ev["candidate_enterprises"][0]["enterprise_id"] == "E-TRUE"
    pv = ev["peak_values"]
    assert any(v["unit"] in ("ppb", "ug/m3") for v in pv.values())
    assert "上风向" in f.explain["zh"] and f.explain["en"]
    assert f.sources == ("mobile:走航_20250610.csv",)
    item = res.inputs[0]
    assert len(item.sha256) == 64 and item.size > 0 and item.dates == ("2025-06-10",)
    assert res.indicators["mobile_hotspots"] >= 1 and res.indicators["mobile_km_driven"] > 10
    assert {type(x) for x in res.layers} == {TrackLayer, VectorLayer}
    seg = [x for x in res.layers if isinstance(x, VectorLayer)][0]
    assert seg.kind == "segments" and seg.features["features"]
    assert set(res.tables) >= {"segments", "peaks", "flags"} and res.methods["en"] and res.methods["zh"]
    assert all(set(x) == {"en", "zh"} for x in res.limitations)


def test_cli_with_enterprises(track_csv, enterprises_csv, tmp_path):
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["mobile", str(track_csv), "--out", str(out), "--enterprises", str(enterprises_csv), "--lang", "zh"])
    assert r.exit_code == 0, r.output
    names = {p.name for p in out.iterdir()}
    assert {"segments.csv", "peaks.csv", "hotspots.geojson", "flags.csv", "summary.json", "map.html", "enterprise_scores.csv"} <= names
    fc = json.loads((out / "hotspots.geojson").read_text())
    assert fc["features"][0]["properties"]["kind"] == "mobile_hotspot"
    scores = pd.read_csv(out / "enterprise_scores.csv", encoding="utf-8-sig", dtype=str)
    assert scores["enterprise_id"].iloc[0].endswith("E-TRUE")
    html = (out / "map.html").read_text()
    assert "https://cdn" not in html and "高值路段" in html
    summary = json.loads((out / "summary.json").read_text())
    assert summary["park"]["derived_from_track"] is True


def test_cli_wind_options_need_each_other(track_csv, tmp_path):
    r = CliRunner().invoke(cli, ["mobile", str(track_csv), "--out", str(tmp_path), "--wind-from", "90"])
    assert r.exit_code == 2


def test_real_bangalore_run_with_installed_script(bangalore, tmp_path):
    exe = Path(sys.executable).with_name("parkscan")
    if not exe.exists():
        pytest.skip("parkscan script not installed in this environment")
    out = tmp_path / "blr"
    p = subprocess.run([str(exe), "mobile", str(bangalore), "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    summary = json.loads((out / "summary.json").read_text())
    ind = summary["indicators"]
    assert ind["mobile_points"] == 3000 and set(ind["mobile_pollutants"]) == {"bc", "pm25", "pn", "co2"}
    assert ind["mobile_segments"] > 300 and ind["mobile_passes_median"] == 1
    assert ind["mobile_segments_reliable_pct"] == 0.0  # a single drive: nothing reliable, and we say so
    assert summary["coverage"]["status"] == "partial"
    assert any("indicative" in x["en"] for x in summary["limitations"])
    seg = pd.read_csv(out / "segments.csv", encoding="utf-8-sig")
    assert {"pm25", "bc", "n_passes", "reliable", "z_pm25", "q_pm25"} <= set(seg.columns)
    assert (out / "map.html").stat().st_size > 10000
    for h in summary["hotspots"]:
        assert h["confidence"] < 0.6  # one pass can never be confident


def test_cli_ml_outputs(tmp_path, enterprises_csv):
    from .conftest import loop_track

    files = []
    for i, day in enumerate(["2025-06-10", "2025-06-11"]):
        p = tmp_path / f"d{i}.csv"
        loop_track(3, seed=i, start=f"{day} 09:00:00").to_csv(p, index=False)
        files.append(str(p))
    out = tmp_path / "ml"
    r = CliRunner().invoke(cli, ["mobile", *files, "--out", str(out), "--enterprises", str(enterprises_csv), "--ml"])
    assert r.exit_code == 0, r.output
    for name in ("lur_cv.csv", "nmf_profiles.csv", "nmf_matches.csv", "plan.csv"):
        assert (out / name).exists(), name
    cv = pd.read_csv(out / "lur_cv.csv", encoding="utf-8-sig")
    assert {"gbm", "rf", "idw", "mean"} <= set(cv["model"]) and "leave-one-day-out" in set(cv["scheme"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ml"]["notes"]["nmf"]["k"] >= 1
