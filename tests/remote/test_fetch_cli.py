"""`parkscan fetch` for every source against loopback servers; manifests; secrets kept out of files and logs."""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from shapely.geometry import box, mapping

from parkscan.aoi.options import cache_dir, set_options
from parkscan.aoi.park import Park
from parkscan.diagnostics.cli import cli

from remote_cdsefake import PASSWORD, USER, FakeCDSE, product
from remote_loopback import Reply
from remote_stacfake import add_stac_api, make_s2_scene

BOX = (120.600, 31.300, 120.612, 31.310)
MAP_KEY = "abcdef0123456789abcdef0123456789"


@pytest.fixture
def park_file(tmp_path):
    p = tmp_path / "park.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Test park", "id": "T1"}, "geometry": mapping(box(*BOX))}]}))
    return p


def _run(args, **env):
    res = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    return res


def _manifest(out: Path) -> dict:
    return json.loads((out / "fetch_manifest.json").read_text())


def test_fetch_stac_window_geotiff(server, tmp_path, park_file):
    import rasterio

    park = Park(id="T1", name="x", approved=box(*BOX))
    items = [make_s2_scene(tmp_path, server, park, day=1, cloud_cover=5.0),
             make_s2_scene(tmp_path, server, park, day=2, cloud_cover=9.0)]
    url = add_stac_api(server, items, page_size=5)
    out = tmp_path / "out"
    with set_options(ring_m=300):
        res = _run(["fetch", str(park_file), "--source", "stac", "--catalog", url, "--start", "2024-05-01",
                    "--end", "2024-05-31", "--bands", "B04,B08", "--out", str(out)])
    assert res.exit_code == 0, res.output
    m = _manifest(out)
    (item,) = m["items"]
    assert item["kind"] == "s2-window" and item["dates"] == ["2024-05-01", "2024-05-02"]
    assert len(item["extra"]["hrefs"]) == 2 * 3 and all(h.startswith(server.url + "/data/") for h in item["extra"]["hrefs"])
    f = out / item["path"]
    assert hashlib.sha256(f.read_bytes()).hexdigest() == item["sha256"] and f.stat().st_size == item["bytes"]
    with rasterio.open(f) as src:
        assert src.count == 2 and src.descriptions == ("B04", "B08") and src.crs.to_epsg() == park.crs.to_epsg()
    out2 = tmp_path / "out2"
    with set_options(ring_m=300):
        res = _run(["fetch", str(park_file), "--source", "stac", "--catalog", url, "--start", "2024-05-01",
                    "--end", "2024-05-31", "--bands", "B04", "--composite", "none", "--out", str(out2)])
    assert res.exit_code == 0, res.output
    assert sorted(i["path"] for i in _manifest(out2)["items"]) == ["s2_20240501.tif", "s2_20240502.tif"]


def test_fetch_cdse_products_and_cache(server, tmp_path, park_file, monkeypatch):
    cdse = FakeCDSE(server, [product("id-a", "S2A_MSIL2A_20240501_X.SAFE", "2024-05-01T02:40:00.000Z", 5.0),
                             product("id-b", "S2B_MSIL2A_20240504_X.SAFE", "2024-05-04T02:40:00.000Z", 50.0)])
    data = os.urandom(70_000)
    cdse.add_body("id-a", data)
    for k, v in {"CDSE_USERNAME": USER, "CDSE_PASSWORD": PASSWORD, "CDSE_CATALOGUE_URL": cdse.urls["catalogue_url"],
                 "CDSE_DOWNLOAD_URL": cdse.urls["download_url"], "CDSE_TOKEN_URL": cdse.urls["token_url"]}.items():
        monkeypatch.setenv(k, v)
    args = ["fetch", str(park_file), "--source", "cdse", "--start", "2024-05-01", "--end", "2024-05-31",
            "--max-cloud", "20"]
    res = _run(args + ["--out", str(tmp_path / "o1")])
    assert res.exit_code == 0, res.output
    (item,) = _manifest(tmp_path / "o1")["items"]
    assert item["id"] == "id-a" and item["extra"]["md5"] == hashlib.md5(data).hexdigest()
    assert item["extra"]["cache_hit"] is False
    served = server.total_bytes()
    res = _run(args + ["--out", str(tmp_path / "o2")])
    (item2,) = _manifest(tmp_path / "o2")["items"]
    assert item2["extra"]["cache_hit"] is True and (tmp_path / "o2" / item2["path"]).read_bytes() == data
    assert server.total_bytes() - served < 10_000  # only the search answer, not the product again
    text = (tmp_path / "o1" / "fetch_manifest.json").read_text()
    assert PASSWORD not in text and "Bearer" not in text


def test_fetch_firms_api_key_never_written(server, tmp_path, park_file, monkeypatch, caplog):
    calls = []

    def area(req):
        parts = req.path.split("/")
        calls.append(parts[5:])
        if parts[4] != MAP_KEY:
            return Reply(200, b"Invalid MAP_KEY.", {"Content-Type": "text/plain"})
        day = parts[-1]
        csv = ("latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,instrument,confidence,version,"
               f"bright_ti5,frp,daynight\n31.305,120.605,340.1,0.4,0.4,{day},0530,N,VIIRS,n,2.0NRT,290.2,5.3,D\n")
        return Reply(200, csv.encode(), {"Content-Type": "text/csv"})

    server.route("GET", "/api/area/csv/.*", area)
    monkeypatch.setenv("FIRMS_MAP_KEY", MAP_KEY)
    out = tmp_path / "fires"
    with caplog.at_level(logging.DEBUG):
        res = _run(["-vv", "fetch", str(park_file), "--source", "firms", "--catalog", server.url + "/api/area/csv",
                    "--start", "2024-05-01", "--end", "2024-05-12", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert [c[2:] for c in calls] == [["5", "2024-05-01"], ["5", "2024-05-06"], ["2", "2024-05-11"]]
    (item,) = _manifest(out)["items"]
    assert item["extra"]["rows"] == 3
    everything = "".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    everything += "".join(str(p) for p in cache_dir().rglob("*")) + caplog.text + res.output
    everything += "".join(p.read_text(errors="replace") for p in cache_dir().rglob("*") if p.is_file())
    assert MAP_KEY not in everything
    monkeypatch.setenv("FIRMS_MAP_KEY", "wrong-key-000000")
    res = CliRunner().invoke(cli, ["fetch", str(park_file), "--source", "firms", "--catalog", server.url + "/api/area/csv",
                                   "--start", "2024-06-01", "--end", "2024-06-02", "--out", str(out)])
    assert res.exit_code == 1 and "MAP_KEY was rejected" in res.output and "wrong-key" not in res.output


def test_fetch_dhus_via_sentinelsat(server, tmp_path, park_file, monkeypatch):
    from remote_paths import DHUS_CASSETTES
    from remote_replay import Replay
    from remote_replay import give_payloads as _payloads

    cas = DHUS_CASSETTES / "vcr_cassettes"
    if not cas.exists():
        pytest.skip("DHuS cassettes absent")
    replay = Replay(server, [cas / "test_download_single.yaml"])
    files = _payloads(replay)
    monkeypatch.setenv("DHUS_USER", "u")
    monkeypatch.setenv("DHUS_PASSWORD", "dhus-pw-123")
    out = tmp_path / "dhus"
    res = _run(["fetch", str(park_file), "--source", "dhus", "--catalog", replay.base("apihub.copernicus.eu") + "/apihub/",
                "--collection", "s3", "--start", "2023-03-01", "--end", "2023-03-10", "--out", str(out)])
    assert res.exit_code == 0, res.output
    items = _manifest(out)["items"]
    assert {i["id"] for i in items} <= set(files) and items
    for i in items:
        assert (out / i["path"]).read_bytes() == files[i["id"]]


def test_fetch_dhus_closed_hub_one_line(park_file, tmp_path, monkeypatch):
    monkeypatch.setenv("DHUS_USER", "u")
    monkeypatch.setenv("DHUS_PASSWORD", "dhus-pw-123")
    res = CliRunner().invoke(cli, ["fetch", str(park_file), "--source", "dhus", "--catalog", "https://apihub.copernicus.eu/apihub/",
                                   "--start", "2023-03-01", "--end", "2023-03-10", "--out", str(tmp_path / "x")])
    assert res.exit_code == 1 and "closed in 2023" in res.output and "Traceback" not in res.output


def test_fetch_local_lists_and_checksums(tmp_path, park_file, server):
    from remote_paths import s5p_files

    park = Park(id="T1", name="x", approved=box(*BOX))
    make_s2_scene(tmp_path / "mine", server, park, day=4) if (tmp_path / "mine").mkdir() is None else None
    safe = tmp_path / "mine" / "S2A_MSIL2A_20240505T024000_N0510_R089_T51RUQ_20240505T060000.SAFE"
    (safe / "GRANULE").mkdir(parents=True)
    (safe / "manifest.safe").write_text("<xfdu/>")
    (safe / "GRANULE" / "B04.jp2").write_bytes(b"jp2")
    for f in s5p_files():
        os.symlink(f, tmp_path / "mine" / f.name)
    out = tmp_path / "out"
    res = _run(["fetch", str(park_file), "--source", "local", "--path", str(tmp_path / "mine"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    items = _manifest(out)["items"]
    kinds = {i["kind"] for i in items}
    assert {"local:safe", "local:cog"} <= kinds
    safe_item = next(i for i in items if i["kind"] == "local:safe")
    assert safe_item["dates"][0] == "2024-05-05" and safe_item["bytes"] == len("<xfdu/>") + 3
    cog = next(i for i in items if i["kind"] == "local:cog")
    assert cog["sha256"] == hashlib.sha256(Path(cog["path"]).read_bytes()).hexdigest()
    if s5p_files():
        nc = [i for i in items if i["kind"] == "local:netcdf"]
        assert len(nc) == 2 and nc[0]["dates"][0] == "2020-03-03"


def test_installed_script_local_and_usage_errors(tmp_path, park_file):
    import shutil
    import subprocess
    import sys

    exe = shutil.which("parkscan") or str(Path(sys.executable).with_name("parkscan"))
    if not Path(exe).exists():
        pytest.skip("parkscan script not installed")
    data = tmp_path / "d"
    data.mkdir()
    (data / "fires_20240501.csv").write_text("latitude,longitude,acq_date,acq_time,frp\n31.3,120.6,2024-05-01,0530,4.2\n")
    out = tmp_path / "o"
    r = subprocess.run([exe, "fetch", str(park_file), "--source", "local", "--path", str(data), "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    (item,) = json.loads((out / "fetch_manifest.json").read_text())["items"]
    assert item["kind"] == "local:csv" and item["dates"] == ["2024-05-01"]
    r = subprocess.run([exe, "fetch", str(park_file), "--source", "stac", "--out", str(out)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1 and "--start and --end" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([exe, "fetch", str(park_file), "--source", "stac", "--start", "2024-13-01", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr
