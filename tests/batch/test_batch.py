"""Batch over many parks on a real Dask LocalCluster: failures recorded, resume, kill and resume."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parkscan.diagnostics.batch import run_batch, safe_name

ROOT = Path(__file__).resolve().parents[2]
PARKSCAN = Path(sys.executable).parent / "parkscan"


def _parks_file(path: Path, n: int, *, broken: bool = True) -> Path:
    feats = []
    for i in range(n):
        x, y = 112 + (i % 7) * 1.3, 28 + (i // 7) * 1.1
        feats.append({"type": "Feature", "properties": {"name": f"园区{i}", "id": f"P{i}"},
                      "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + .03, y], [x + .03, y + .02], [x, y + .02], [x, y]]]}})
    if broken:  # zero-area polygon
        feats.append({"type": "Feature", "properties": {"name": "broken", "id": "PX"},
                      "geometry": {"type": "Polygon", "coordinates": [[[113, 31], [113.01, 31], [113.02, 31], [113, 31]]]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")
    return path


def _ranking(out: Path) -> list[dict]:
    return list(csv.DictReader(open(out / "parks_ranking.csv", encoding="utf-8-sig")))


def test_batch_records_broken_park_and_resumes(tmp_path):
    parks = _parks_file(tmp_path / "parks.geojson", 4)
    out = tmp_path / "out"
    res = run_batch(parks, out, workers=2)
    assert sorted(res.done) == ["P0", "P1", "P2", "P3"]
    assert list(res.failed) == ["PX"] and res.failed["PX"]
    rows = _ranking(out)
    assert [r["status"] for r in rows] == ["done"] * 4 + ["failed"]
    assert rows[-1]["park_id"] == "PX" and rows[-1]["error"]
    assert [int(r["rank"]) for r in rows[:4]] == [1, 2, 3, 4]
    for pid in res.done:
        d = out / "parks" / safe_name(pid)
        for name in ("report.html", "map.html", "findings.geojson", "site_visits.csv", "summary.json", "manifest.json"):
            assert (d / name).is_file(), (pid, name)
    assert (out / "parks_overview.html").is_file()
    assert not list((out / "parks").glob(".tmp-*")), "temporary park folders left behind"
    mtimes = {p.name: p.stat().st_mtime_ns for p in (out / "status").glob("P[0-9].json")}

    res2 = run_batch(parks, out, workers=2, resume=True)
    assert sorted(res2.skipped) == ["P0", "P1", "P2", "P3"] and res2.done == []
    assert list(res2.failed) == ["PX"]  # failed parks are retried, and fail again
    assert mtimes == {p.name: p.stat().st_mtime_ns for p in (out / "status").glob("P[0-9].json")}


def test_changed_park_is_redone_on_resume(tmp_path):
    parks = _parks_file(tmp_path / "parks.geojson", 2, broken=False)
    out = tmp_path / "out"
    run_batch(parks, out, workers=1)
    fc = json.loads(parks.read_text(encoding="utf-8"))
    fc["features"][1]["geometry"]["coordinates"][0][1][0] += 0.01  # P1's boundary changed
    parks.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    res = run_batch(parks, out, workers=1, resume=True)
    assert res.skipped == ["P0"] and res.done == ["P1"]


@pytest.mark.slow
def test_killed_batch_resumes_without_redoing_finished_parks(tmp_path):
    parks = _parks_file(tmp_path / "parks.geojson", 10, broken=False)
    out = tmp_path / "out"
    proc = subprocess.Popen([str(PARKSCAN), "-q", "batch", str(parks), "--out", str(out), "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        done = [p for p in (out / "status").glob("*.json")] if (out / "status").exists() else []
        if len(done) >= 3 or proc.poll() is not None:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "batch finished before it could be killed: " + proc.stdout.read().decode()[-500:]
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its Dask workers, as a crash would
    proc.wait(30)
    finished = {p.stem: p.stat().st_mtime_ns for p in (out / "status").glob("*.json")}
    assert 3 <= len(finished) < 10
    r = subprocess.run([str(PARKSCAN), "-q", "batch", str(parks), "--out", str(out), "--workers", "2", "--resume"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{len(finished)} already done" in r.stdout
    after = {p.stem: p.stat().st_mtime_ns for p in (out / "status").glob("*.json")}
    assert len(after) == 10
    assert all(after[k] == v for k, v in finished.items()), "a finished park was redone"
    assert all(r["status"] == "done" for r in _ranking(out))


def test_bad_scheduler_address_is_a_clear_error(tmp_path):
    from click.testing import CliRunner

    from parkscan.diagnostics.cli import cli

    parks = _parks_file(tmp_path / "parks.geojson", 1, broken=False)
    r = CliRunner().invoke(cli, ["batch", str(parks), "--out", str(tmp_path / "o"), "--scheduler", "nonsense"])
    assert r.exit_code == 1 and "scheduler" in r.output and "Traceback" not in r.output


def test_park_ids_naming_the_same_folder_get_distinct_folders(tmp_path):
    from parkscan.diagnostics.batch import load_tasks

    feats = [{"type": "Feature", "properties": {"name": f"园区{i}", "id": pid},
              "geometry": {"type": "Polygon", "coordinates": [[[112 + i, 28], [112.03 + i, 28], [112.03 + i, 28.02], [112 + i, 28.02], [112 + i, 28]]]}}
             for i, pid in enumerate(["A/B", "A B", "A_B", "C"])]
    path = tmp_path / "parks.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")
    tasks = load_tasks(path)
    folders = [t.folder for t in tasks]
    assert len(set(folders)) == len(folders) == 4, folders
    assert tasks[0].park_id == "A/B" and tasks[-1].park_id == "C"


def test_per_park_farmland_and_model_become_screening_params(tmp_path):
    from parkscan.diagnostics.batch import load_tasks

    feats = [{"type": "Feature", "properties": {"name": "园区", "id": "P1", "imagery": "img", "farmland": "data/三调耕地.gpkg",
                                                "landcover_model": "m.joblib"},
              "geometry": {"type": "Polygon", "coordinates": [[[112, 28], [112.03, 28], [112.03, 28.02], [112, 28.02], [112, 28]]]}},
             {"type": "Feature", "properties": {"name": "园区2", "id": "P2"},
              "geometry": {"type": "Polygon", "coordinates": [[[113, 28], [113.03, 28], [113.03, 28.02], [113, 28.02], [113, 28]]]}}]
    path = tmp_path / "parks.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")
    t1, t2 = load_tasks(path)
    assert t1.inputs["params"] == {"landcover_farmland": str((tmp_path / "data" / "三调耕地.gpkg").resolve()),
                                   "landcover_model": str((tmp_path / "m.joblib").resolve())}
    assert "params" not in t2.inputs
    feats[0]["properties"]["farmland"] = "data/other.gpkg"  # another farmland layer: another fingerprint (redone on resume)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")
    assert load_tasks(path)[0].fingerprint() != t1.fingerprint()
