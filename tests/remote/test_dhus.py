"""sentinelsat itself against a loopback DHuS replaying recorded real hub answers."""
from __future__ import annotations

import hashlib
import re

import pytest

from parkscan.aoi.errors import SourceAPIError, SourceError, SourceIOError
from parkscan.sources.remote import dhus
from parkscan.sources.remote.credentials import Credentials

from remote_paths import DHUS_CASSETTES
from remote_loopback import Reply
from remote_replay import Replay, give_payloads as _payloads

HOST = "apihub.copernicus.eu"
CRED = Credentials("tester", "pa55-w0rd-x", origin="test")


def _need(*names):
    paths = [DHUS_CASSETTES / "vcr_cassettes" / n for n in names]
    for p in paths:
        if not p.exists():
            pytest.skip(f"real cassette {p} is absent")
    return paths


def _hub(server, *names):
    replay = Replay(server, _need(*names))
    api = dhus.open_hub(replay.base(HOST) + "/apihub/", credentials=CRED)
    return replay, api


def test_closed_hub_and_cdse_are_refused():
    with pytest.raises(SourceError, match="closed in 2023.*--source cdse"):
        dhus.open_hub("https://scihub.copernicus.eu/dhus/", credentials=CRED)
    with pytest.raises(SourceError, match="not speak the DHuS"):
        dhus.open_hub("https://catalogue.dataspace.copernicus.eu/odata/v1", credentials=CRED)


def test_session_has_timeout_and_no_secret_in_repr(server):
    _, api = _hub(server, "test_s2_cloudcover.yaml")
    assert isinstance(api.session, dhus.TimeoutSession)
    assert "pa55" not in repr(api.session)
    server.route("GET", "/slow", lambda r: (__import__("time").sleep(1.0), Reply(200, b"{}"))[1])
    from parkscan.aoi.options import set_options
    import requests

    with set_options(http_timeout=0.2, http_retries=0):
        with pytest.raises(requests.exceptions.ConnectionError):
            dhus.TimeoutSession().get(server.url + "/slow")


def test_query_by_footprint_date_platform_cloud(server):
    replay, api = _hub(server, "test_s2_cloudcover.yaml")
    wkt = "POLYGON((-66.2695 -8.0592,-66.2695 0.7031,-57.3047 0.7031,-57.3047 -8.0592,-66.2695 -8.0592))"
    prods = dhus.search(api, area_wkt=wkt, start="2018-12-12", end="2018-12-28", platform="Sentinel-2", max_cloud=10)
    assert len(prods) == 5
    assert all(p["cloudcoverpercentage"] <= 10 for p in prods.values())
    from urllib.parse import unquote_plus

    q = unquote_plus(server.requests[-1][1])
    assert 'cloudcoverpercentage:["0" TO "10"]' in q and 'platformname:"Sentinel-2"' in q and "Intersects(POLYGON" in q
    assert 'beginPosition:["2018-12-12T00:00:00Z" TO "2018-12-29T00:00:00Z"]' in q  # the end day is included


def test_query_paging_630_results(server):
    _, api = _hub(server, "test_large_query.yaml")
    prods = dhus.search(api, area_wkt="POLYGON((0 0,0 10,10 10,10 0,0 0))", start="2015-12-01", end="2015-12-31",
                        platform=None)
    assert len(prods) == 630
    starts = sorted({int(re.search(r"start=(\d+)", p).group(1)) for m, p, h in server.requests if "/search" in p})
    assert starts == [0, 100, 200, 300, 400, 500, 600]


def test_wrong_credentials_is_clear(server):
    _, api = _hub(server, "test_SentinelAPI_wrong_credentials.yaml")
    with pytest.raises(SourceAPIError, match="rejected the credentials") as ei:
        dhus.search(api, area_wkt="POLYGON((0 0,0 1,1 1,1 0,0 0))", start="2015-01-01", end="2015-01-02")
    assert "pa55" not in str(ei.value)


def test_maintenance_page(server):
    _, api = _hub(server, "test_s2_cloudcover.yaml")
    server.maintenance_html = (DHUS_CASSETTES / "server_maintenance.html").read_bytes()
    server.fault(f"/{HOST}/apihub/search", *["maintenance"] * 5)
    with pytest.raises(SourceAPIError, match="maintenance"):
        dhus.search(api, area_wkt="POLYGON((0 0,0 1,1 1,1 0,0 0))", start="2018-12-12", end="2018-12-28")


def test_download_all_with_checksums(server, tmp_path):
    replay, api = _hub(server, "test_download_all.yaml")
    files = _payloads(replay)
    recs = dhus.download(api, list(files), tmp_path)
    assert len(recs) == 3
    for r in recs:
        from pathlib import Path

        assert Path(r["path"]).read_bytes() == files[r["id"]]
        assert r["sha256"] == hashlib.sha256(files[r["id"]]).hexdigest()
        assert r["url"].startswith("http://127.0.0.1")


def test_download_bad_checksum_leaves_no_file(server, tmp_path):
    replay, api = _hub(server, "test_download_all.yaml")
    files = _payloads(replay, corrupt={"96fc9975-1c5c-4279-9fd1-1336d9743d8a"})
    with pytest.raises(SourceIOError, match="MD5"):
        dhus.download(api, ["96fc9975-1c5c-4279-9fd1-1336d9743d8a"], tmp_path)
    assert not any(tmp_path.glob("*.zip")) and not any(tmp_path.glob("*.incomplete"))


def test_download_resumes_after_a_cut(server, tmp_path):
    replay, api = _hub(server, "test_download_all.yaml")
    files = _payloads(replay)
    pid = "b1d8a9ab-6072-4ecd-bc44-8d64419d71cb"
    path = f"/{HOST}/apihub/odata/v1/Products('{pid}')/$value"
    server.fault(path, "truncate:20000")
    recs = dhus.download(api, [pid], tmp_path)
    assert open(recs[0]["path"], "rb").read() == files[pid]
    gets = [h for m, p, h in server.requests if m == "GET" and p == path]
    assert len(gets) == 2 and gets[0].get("Range") is None and gets[1].get("Range", "").startswith("bytes=")
    assert server.total_bytes(path) < 2 * len(files[pid])
