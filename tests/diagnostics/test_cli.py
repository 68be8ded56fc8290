"""`parkscan screen` and `parkscan demo`: CliRunner for errors and options, one real subprocess run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from parkscan.diagnostics.cli import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runner():
    return CliRunner()


def test_screen_help(runner):
    r = runner.invoke(cli, ["screen", "--help"])
    assert r.exit_code == 0
    for opt in ("--enterprises", "--mobile", "--imagery", "--before", "--no2", "--so2", "--thermal", "--fires",
                "--wind-from", "--reference", "--datum", "--lang", "--basemap", "--mobile-datum"):
        assert opt in r.output


def test_screen_missing_park_is_not_a_traceback(runner, tmp_path):
    r = runner.invoke(cli, ["screen", str(tmp_path / "nope.geojson"), "--out", str(tmp_path / "o")])
    assert r.exit_code != 0 and r.exception is None or isinstance(r.exception, SystemExit)
    assert "Traceback" not in r.output


def test_screen_bad_park_is_one_line_exit_1(runner, tmp_path):
    p = tmp_path / "empty.geojson"
    p.write_text('{"type":"FeatureCollection","features":[]}')
    r = runner.invoke(cli, ["screen", str(p), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1, r.output
    assert isinstance(r.exception, SystemExit)
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:")


@pytest.mark.parametrize("args, msg", [
    (["--before", "2024-05-01"], "not a date range"),
    (["--before", "2024-06-01/2024-05-01", "--after", "2025-05-01/2025-06-01", "--imagery", "x"], "start is after the end"),
    (["--wind-from", "90"], "--wind-from and --wind-speed together"),
    (["--before", "2024-05-01/2024-06-01"], "give --imagery too"),
    (["--start", "abc"], "LON,LAT"),
])
def test_screen_usage_errors(runner, tmp_path, h, args, msg):
    park = h.write_park_geojson(tmp_path / "park.geojson")
    r = runner.invoke(cli, ["screen", str(park), "--out", str(tmp_path / "o"), *args])
    assert r.exit_code == 2
    assert msg in r.output


def test_screen_with_enterprises_writes_outputs(runner, tmp_path, h):
    park = h.write_park_geojson(tmp_path / "park.geojson")
    ent = tmp_path / "ent.csv"
    ent.write_text("统一社会信用代码,企业名称,经度,纬度,所属行业\nA1,甲化工,113.31,23.11,化工\nA2,=1+1,113.45,23.2,涂装\n", encoding="utf-8")
    r = runner.invoke(cli, ["-q", "screen", str(park), "--enterprises", str(ent), "--out", str(tmp_path / "o"), "--lang", "zh",
                            "--wind-from", "90", "--wind-speed", "3"])
    assert r.exit_code == 0, r.output
    assert "report:" in r.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert summary["lang"] == "zh" and summary["park"]["enterprises"] == 2
    visits = (tmp_path / "o" / "site_visits.csv").read_text(encoding="utf-8-sig")
    assert "'=1+1" in visits  # A2 is outside the approved boundary: proposed for a visit, name defused
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    kinds = {i["kind"] for i in manifest["inputs"]}
    assert {"boundary", "enterprises"} <= kinds
    assert all(i["sha256"] for i in manifest["inputs"] if i["kind"] in ("boundary", "enterprises"))
    assert manifest["parameters"]["wind"] == {"from_deg": 90.0, "speed_ms": 3.0}


def test_demo_uses_the_screen_path(runner, tmp_path, h, monkeypatch):
    """demo = simulate + run_screen on scenario.json, nothing private."""
    import parkscan.sources.simulate as sim

    def fake_simulate(out_dir, *, seed=42, preset="typical"):
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        h.write_park_geojson(out_dir / "park.geojson")
        (out_dir / "ent.csv").write_text("id,name,lon,lat\nA1,甲,113.31,23.11\n", encoding="utf-8")
        (out_dir / "scenario.json").write_text(json.dumps({"park": "park.geojson", "enterprises": "ent.csv",
                                                           "wind": {"from_deg": 10, "speed_ms": 2}}))

    calls = []
    import parkscan.diagnostics.cli.screen as screen_cli

    real = screen_cli.run_screen
    monkeypatch.setattr(sim, "simulate", fake_simulate)
    monkeypatch.setattr(screen_cli, "run_screen", lambda *a, **k: calls.append((a, k)) or real(*a, **k))
    r = runner.invoke(cli, ["-q", "demo", "--out", str(tmp_path / "d"), "--preset", "small"])
    assert r.exit_code == 0, r.output
    assert len(calls) == 1
    (park, out), kw = calls[0]
    assert Path(park) == (tmp_path / "d" / "inputs" / "park.geojson").resolve()
    assert kw["inputs"]["enterprises"].endswith("ent.csv") and kw["inputs"]["wind"] == {"from_deg": 10.0, "speed_ms": 2.0}
    assert (tmp_path / "d" / "report.html").is_file()
    assert str((tmp_path / "d" / "report.html").resolve()) in r.output


def test_demo_without_park_in_scenario_is_a_user_error(runner, tmp_path, monkeypatch):
    import parkscan.sources.simulate as sim

    def fake_simulate(out_dir, *, seed=42, preset="typical"):
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / "scenario.json").write_text("{}")

    monkeypatch.setattr(sim, "simulate", fake_simulate)
    r = runner.invoke(cli, ["-q", "demo", "--out", str(tmp_path / "d")])
    assert r.exit_code == 1 and "names no park boundary" in r.output


def test_installed_parkscan_screen_subprocess(tmp_path, h):
    exe = ROOT / ".venv" / "bin" / "parkscan"
    if not exe.exists():
        pytest.skip("no installed .venv/bin/parkscan")
    park = h.write_park_geojson(tmp_path / "park.geojson")
    env = {**os.environ, "COLUMNS": "100"}
    r = subprocess.run([str(exe), "screen", str(park), "--out", str(tmp_path / "o")], capture_output=True, text=True,
                       timeout=180, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert "report:" in r.stdout
    for n in ("report.html", "map.html", "findings.geojson", "site_visits.csv", "summary.json", "manifest.json"):
        assert (tmp_path / "o" / n).is_file()
    bad = subprocess.run([str(exe), "screen", str(tmp_path / "missing.geojson"), "--out", str(tmp_path / "o2")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_screen_on_simulated_files_equals_demo(runner, tmp_path):
    """`parkscan screen` on the files `parkscan simulate` writes gives what `parkscan demo` gives."""
    from parkscan.diagnostics.cli.demo import scenario_inputs
    from parkscan.diagnostics.cli.screen import run_screen

    r = runner.invoke(cli, ["-q", "demo", "--out", str(tmp_path / "demo"), "--preset", "small", "--seed", "3"])
    assert r.exit_code == 0, r.output
    park, inputs, extra = scenario_inputs(tmp_path / "demo" / "inputs")
    run_screen(park, tmp_path / "screen", inputs=inputs, datum=extra["datum"], show_progress=False)
    for n in ("findings.geojson", "site_visits.csv", "ranking.csv"):
        assert (tmp_path / "demo" / n).read_bytes() == (tmp_path / "screen" / n).read_bytes(), n
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text(encoding="utf-8"))
    assert summary["n_findings"] > 0 and summary["site_visits"]
    assert all(s in ("ok", "partial") for s in summary["diagnostics"].values()), summary["diagnostics"]
