"""Landsat surface temperature, Sentinel-5P netCDF through STAC, the request cache, and interruptions."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from shapely.geometry import box

from parkscan.aoi.errors import SourceIOError
from parkscan.aoi.options import set_options
from parkscan.aoi.park import Park
from parkscan.sources.remote.cache import RequestCache, request_key
from parkscan.sources.remote.fetch import fetch
from parkscan.sources.remote.http import HTTPSession, part_path
from parkscan.sources.remote.stac_load import load_thermal

from remote_paths import s5p_files
from remote_stacfake import add_stac_api, make_landsat_scene

PARK = Park(id="T2", name="Thermal park", approved=box(120.600, 31.300, 120.615, 31.312))


def test_load_thermal_masks_qa_and_scales(server, tmp_path):
    items = [make_landsat_scene(tmp_path, server, PARK, day=3, st_dn=44000),
             make_landsat_scene(tmp_path, server, PARK, day=19, st_dn=46000, cloud_rows=slice(0, 128))]
    url = add_stac_api(server, items, page_size=10)
    with set_options(ring_m=600):
        ds = load_thermal(url, PARK, start="2024-07-01", end="2024-07-31", composite="none")
    assert list(ds.data_vars) == ["LST"] and ds.sizes["time"] == 2 and ds.rio.crs == PARK.crs
    k1, k2 = 44000 * 0.00341802 + 149.0, 46000 * 0.00341802 + 149.0
    assert float(ds["LST"].isel(time=0).mean()) == pytest.approx(k1, abs=0.01)
    second = ds["LST"].isel(time=1).values
    assert np.isnan(second).any() and np.nanmax(second) == pytest.approx(k2, abs=0.01)


def test_s5p_netcdf_through_stac_with_checksums(server, tmp_path):
    files = s5p_files()
    if not files:
        pytest.skip("real S5P files absent")
    items = []
    for i, f in enumerate(files[:1]):
        data = f.read_bytes()
        url = server.add_file(f"/s5p/{f.name}", f)
        items.append({"type": "Feature", "stac_version": "1.0.0", "id": f.stem, "collection": "sentinel-5p-l2-netcdf",
                      "geometry": {"type": "Polygon", "coordinates": [[[100, 20], [140, 20], [140, 50], [100, 50], [100, 20]]]},
                      "bbox": [100, 20, 140, 50], "properties": {"datetime": "2020-03-03T02:00:00Z", "s5p:product_name": "no2"},
                      "links": [], "assets": {"no2": {"href": url, "type": "application/x-netcdf", "roles": ["data"],
                                                      "file:size": len(data),
                                                      "file:checksum": "1220" + hashlib.sha256(data).hexdigest()}}})
    api = add_stac_api(server, items, page_size=10)
    res = fetch(PARK, source="stac", catalog=api, collection="s5p-no2", start="2020-03-01", end="2020-03-05", out=tmp_path / "o")
    (item,) = res.items
    assert item.kind == "netcdf" and item.sha256 == hashlib.sha256(files[0].read_bytes()).hexdigest()
    assert item.dates == ("2020-03-03",)
    # a wrong checksum in the catalogue: refused, nothing left
    items[0]["assets"]["no2"]["file:checksum"] = "1220" + "0" * 64
    items[0]["id"] += "-bad"
    RequestCache("stac").clear()  # the search answer was cached
    with pytest.raises(SourceIOError, match="corrupt"):
        fetch(PARK, source="stac", catalog=api + "/", collection="s5p-no2", start="2020-03-01", end="2020-03-05",
              out=tmp_path / "bad")
    assert not list((tmp_path / "bad").glob("*.nc"))


def test_cache_roundtrip_and_damage(tmp_path):
    c = RequestCache("t", root=tmp_path)
    k = request_key("POST", "https://x/search?token=abc", {"b": 1, "a": [1, 2]})
    assert k == request_key("POST", "https://x/search?token=zzz", {"a": [1, 2], "b": 1})
    e = c.put(k, b"hello", url="https://u:p@x/search?sig=s3cr3t")
    meta = json.loads(e.path.with_suffix(".json").read_text())
    assert meta["url"] == "https://x/search?sig=***" and c.get(k).path.read_bytes() == b"hello"
    e.path.write_bytes(b"hell")  # damaged (size differs): ignored
    assert c.get(k) is None
    c.put(k, b"again")
    assert c.get(k, max_age=0.0) is None and c.get(k, max_age=60).path.read_bytes() == b"again"
    assert not list(tmp_path.rglob("*.part"))


def test_interrupted_download_leaves_only_the_part(server, tmp_path):
    url = server.add_file("/big.bin", bytes(range(256)) * 2000)

    def stop(done, total):
        if done > 100_000:
            raise KeyboardInterrupt

    dest = tmp_path / "big.bin"
    with pytest.raises(KeyboardInterrupt):
        HTTPSession("t").download(url, dest, progress=stop)
    assert not dest.exists() and part_path(dest).stat().st_size > 0
    res = HTTPSession("t").download(url, dest)
    assert res.resumed_from > 0 and dest.read_bytes() == bytes(range(256)) * 2000


def test_log_records_are_redacted(caplog):
    import logging

    from parkscan.sources.remote.credentials import register_secret

    register_secret("very-secret-token-42")
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("sentinelsat").warning("GET https://h/x?token=abc with very-secret-token-42")
        logging.getLogger("parkscan.sources.remote").info("auth %s", "very-secret-token-42")
        logging.getLogger("parkscan.sources.remote.cdse").info("token %s", "very-secret-token-42")
        logging.getLogger("sentinelsat.SentinelAPI").info("password very-secret-token-42")
    assert "very-secret-token-42" not in caplog.text and "token=abc" not in caplog.text


def test_s3_assets_need_cdse_keys(monkeypatch):
    import pystac

    from parkscan.aoi.errors import SourceError
    from parkscan.sources.remote.stac_load import cdse_s3_options, load_items

    it = pystac.Item("x", {"type": "Point", "coordinates": [120.6, 31.3]}, [120.6, 31.3, 120.6, 31.3],
                     __import__("datetime").datetime(2024, 5, 1), {})
    it.add_asset("B04_10m", pystac.Asset("s3://eodata/Sentinel-2/MSI/L2A/x/B04_10m.jp2"))
    with pytest.raises(SourceError, match="CDSE_S3_ACCESS_KEY"):
        load_items([it], PARK, assets=["B04_10m"], resolution=10)
    it.assets["B04_10m"].href = "s3://usgs-landsat/collection02/level-2/x_ST_B10.TIF"
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with pytest.raises(SourceError, match="requester-pays.*planetary-computer"):
        load_items([it], PARK, assets=["B04_10m"], resolution=10)
    monkeypatch.setenv("CDSE_S3_ACCESS_KEY", "AKIDEXAMPLE")
    monkeypatch.setenv("CDSE_S3_SECRET_KEY", "s3-secret-value-9")
    opts = cdse_s3_options()
    assert opts["AWS_S3_ENDPOINT"] == "eodata.dataspace.copernicus.eu" and opts["AWS_SECRET_ACCESS_KEY"] == "s3-secret-value-9"
    from parkscan.sources.remote.credentials import redact

    assert "s3-secret-value-9" not in redact(f"x {opts}")
