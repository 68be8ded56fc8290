"""CDSE OData search, OAuth token with refresh, verified resumable downloads, bands via Nodes()."""
from __future__ import annotations

import hashlib
import os

import pytest
from shapely.geometry import box

from parkscan.aoi.errors import SourceAPIError, SourceIOError
from parkscan.aoi.park import Park
from parkscan.sources.remote.cdse import CDSEClient, odata_filter
from parkscan.sources.remote.credentials import Credentials, get_credentials
from parkscan.sources.remote.http import part_path

from remote_cdsefake import PASSWORD, USER, FakeCDSE, product

PARK = Park(id="P", name="P", approved=box(120.60, 31.30, 120.62, 31.32))


@pytest.fixture
def cdse(server):
    prods = [product(f"id-{i}", f"S2A_MSIL2A_202405{i + 1:02d}_T51RUQ.SAFE", f"2024-05-{i + 1:02d}T02:40:00.000Z",
                     cloud=10.0 * i) for i in range(7)]
    return FakeCDSE(server, prods)


def _client(cdse, password=PASSWORD):
    return CDSEClient(credentials=Credentials(USER, password, origin="test"), **cdse.urls)


def test_filter_syntax():
    f = odata_filter(collection="SENTINEL-2", wkt="POLYGON((1 2,3 4,1 2))", start="2024-05-01", end="2024-05-31",
                     max_cloud=30, product_type="S2MSI2A")
    assert "OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((1 2,3 4,1 2))')" in f
    assert "ContentDate/Start le 2024-05-31T23:59:59.999Z" in f and "Value le 30.00" in f and "'S2MSI2A'" in f


def test_search_pages_and_filters(cdse):
    res = _client(cdse).search(PARK, product="s2-l2a", start="2024-05-01", end="2024-05-06", max_cloud=35, top=2)
    assert [p.id for p in res] == ["id-0", "id-1", "id-2", "id-3"]  # cloud <= 35 and dates, over 2 pages
    assert len(cdse.queries) == 2 and "OData.CSC.Intersects" in cdse.queries[0]
    assert res[0].attributes["cloudCover"] == 0.0


def test_search_empty(cdse):
    assert _client(cdse).search(PARK, start="2020-01-01", end="2020-01-31") == []


def test_download_verified_with_token_across_redirect(cdse, tmp_path):
    data = os.urandom(120_000)
    cdse.add_body("id-1", data)
    c = _client(cdse)
    p = c.search(PARK, start="2024-05-02", end="2024-05-02")[0]
    res = c.download(p, tmp_path)
    assert res.path.read_bytes() == data and res.md5 == hashlib.md5(data).hexdigest()
    assert res.path.name == p.name + ".zip"
    assert cdse.grants == ["password"]
    assert PASSWORD not in repr(c.token) and c.token._access not in repr(c.token)


def test_wrong_credentials(cdse, tmp_path):
    cdse.add_body("id-1", b"x" * 10)
    c = _client(cdse, password="wrong-password-1")
    p = c.search(PARK, start="2024-05-02", end="2024-05-02")[0]
    with pytest.raises(SourceAPIError, match="rejected the credentials") as ei:
        c.download(p, tmp_path)
    assert "wrong-password-1" not in str(ei.value)


def test_expired_token_is_refreshed(cdse, tmp_path):
    data = os.urandom(5000)
    cdse.add_body("id-2", data)
    cdse.expires_in = 30  # already inside the 60 s margin: every use refreshes
    c = _client(cdse)
    p = c.search(PARK, start="2024-05-03", end="2024-05-03")[0]
    c.download(p, tmp_path)
    c.download(p, tmp_path / "again")
    assert cdse.grants[0] == "password" and "refresh_token" in cdse.grants[1:]
    # a token revoked by the server (401) is replaced once
    cdse.tokens.clear()
    cdse.expires_in = 600
    c.token._expires = 1e12
    c.download(p, tmp_path / "third")


def test_wrong_checksum_and_resume(cdse, tmp_path, server):
    data = os.urandom(200_000)
    cdse.add_body("id-3", data, checksum="f" * 32)
    c = _client(cdse)
    p = c.search(PARK, start="2024-05-04", end="2024-05-04")[0]
    with pytest.raises(SourceIOError, match="md5"):
        c.download(p, tmp_path)
    assert not (tmp_path / (p.name + ".zip")).exists() and not part_path(tmp_path / (p.name + ".zip")).exists()
    cdse.add_body("id-3", data)
    p = c.search(PARK, start="2024-05-04", end="2024-05-04")[0]
    server.fault("/zip/odata/v1/Products(id-3)/$value", "truncate:50000", "truncate:50000", "truncate:50000")
    with pytest.raises(SourceIOError, match="resume"):
        c.download(p, tmp_path)
    assert part_path(tmp_path / (p.name + ".zip")).stat().st_size == 150_000
    res = c.download(p, tmp_path)
    assert res.resumed_from == 150_000 and res.path.read_bytes() == data


def test_bands_via_nodes(cdse, tmp_path):
    p0 = cdse.products["id-0"]
    b04, b08, b04_20 = os.urandom(3000), os.urandom(3100), os.urandom(900)
    cdse.nodes["id-0"] = {p0["Name"]: {"manifest.safe": b"<xml/>", "GRANULE": {"L2A_T51RUQ_A0001": {"IMG_DATA": {
        "R10m": {"T51RUQ_20240501T024000_B04_10m.jp2": b04, "T51RUQ_20240501T024000_B08_10m.jp2": b08,
                 "T51RUQ_20240501T024000_B02_10m.jp2": b"zz"},
        "R20m": {"T51RUQ_20240501T024000_B04_20m.jp2": b04_20}}}}}}
    c = _client(cdse)
    p = c.search(PARK, start="2024-05-01", end="2024-05-01")[0]
    res = c.download_bands(p, tmp_path, bands=["B04", "B08"], resolution=10)
    got = {r.path.name: r.path.read_bytes() for r in res}
    assert got == {"T51RUQ_20240501T024000_B04_10m.jp2": b04, "T51RUQ_20240501T024000_B08_10m.jp2": b08}


def test_credentials_from_env_and_netrc(monkeypatch, tmp_path):
    monkeypatch.setenv("CDSE_USERNAME", "a@b.c")
    monkeypatch.setenv("CDSE_PASSWORD", "env-secret-1")
    c = get_credentials("cdse")
    assert c.origin == "env:CDSE_USERNAME" and "env-secret-1" not in repr(c)
    monkeypatch.delenv("CDSE_PASSWORD")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine identity.dataspace.copernicus.eu login n@b.c password netrc-secret-2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    c = get_credentials("cdse")
    assert c.username == "n@b.c" and c.origin.startswith("netrc:")
    monkeypatch.setenv("NETRC", str(tmp_path / "none"))
    from parkscan.sources.remote.credentials import CredentialsError

    with pytest.raises(CredentialsError, match="CDSE_USERNAME and CDSE_PASSWORD"):
        get_credentials("cdse")


def test_download_names():
    from parkscan.sources.remote.cdse import CDSEProduct, download_name

    mk = lambda n: CDSEProduct(id="i", name=n, size=None, md5=None, start="")  # noqa: E731
    assert download_name(mk("S2A_MSIL2A_X.SAFE")) == "S2A_MSIL2A_X.SAFE.zip"
    assert download_name(mk("S5P_OFFL_L2__NO2____20240501T0300.nc")) == "S5P_OFFL_L2__NO2____20240501T0300.nc"


@pytest.mark.parametrize("name", ["../../evil.nc", "/etc/evil.zip", "..", "", "a\\..\\b.SAFE"])
def test_server_names_cannot_leave_the_output_folder(name):
    from parkscan.aoi.errors import SourceError
    from parkscan.sources.remote.cdse import CDSEProduct, download_name

    with pytest.raises(SourceError, match="unsafe file name"):
        download_name(CDSEProduct(id="i", name=name, size=None, md5=None, start=""))
