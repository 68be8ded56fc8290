"""load_imagery against a STAC stand-in serving COGs over the Range-capable loopback server."""
from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box

from parkscan.aoi.errors import SourceError
from parkscan.aoi.options import set_options
from parkscan.aoi.park import Park
from parkscan.sources.remote.stac_load import load_imagery

from remote_stacfake import add_stac_api, band_value, make_s2_scene


@pytest.fixture
def park():
    return Park(id="T1", name="Test park", approved=box(120.600, 31.300, 120.612, 31.310))


@pytest.fixture
def stac_api(server, tmp_path, park):
    items = [make_s2_scene(tmp_path, server, park, day=1, cloud_cover=5.0),
             make_s2_scene(tmp_path, server, park, day=3, cloud_cover=20.0, cloud_rows=slice(0, 128)),
             make_s2_scene(tmp_path, server, park, day=5, cloud_cover=80.0)]
    return add_stac_api(server, items, page_size=1)


def test_median_composite_masked_and_scaled(stac_api, park, server):
    with set_options(ring_m=500):
        ds = load_imagery(stac_api, park, start="2024-05-01", end="2024-05-31", max_cloud=30, resolution=10)
        grid = park.grid(10, ring_m=500)
    assert list(ds.data_vars) == ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"]
    assert ds["B04"].dims == ("time", "y", "x") and ds.sizes["time"] == 1
    assert ds["B04"].dtype == np.float32
    assert ds.rio.crs.to_epsg() == park.crs.to_epsg()
    assert (ds.sizes["y"], ds.sizes["x"]) == grid.shape
    assert sorted(ds.attrs["items"]) == ["S2X_TEST_20240501_L2A", "S2X_TEST_20240503_L2A"]  # 80 % cloud scene excluded
    b04 = ds["B04"].values[0]
    # top rows of the window are clouded in scene 3 → only scene 1 there; elsewhere the median of both
    r1 = band_value("B04", 1) * 1e-4 - 0.1
    r3 = band_value("B04", 3) * 1e-4 - 0.1
    assert np.nanmin(b04) == pytest.approx(r1, abs=1e-4)
    assert np.nanmax(b04) == pytest.approx((r1 + r3) / 2, abs=1e-4)
    assert not np.isnan(b04).any()
    # paging followed the next links (one item per page)
    assert len(server.search_bodies) >= 2
    # only windowed reads: far fewer bytes than the files hold
    assert 0 < server.total_bytes() < sum(len(p.read_bytes()) for p in server.files.values() if hasattr(p, "read_bytes"))


def test_least_cloudy_and_time_series(stac_api, park):
    with set_options(ring_m=300):
        one = load_imagery(stac_api, park, start="2024-05-01", end="2024-05-31", resolution=20,
                           composite="least-cloudy", bands=["B04", "B08"])
        ts = load_imagery(stac_api, park, start="2024-05-01", end="2024-05-31", resolution=20,
                          composite="none", bands=["B04"])
    assert list(one.data_vars) == ["B04", "B08"] and one.sizes["time"] == 1
    assert float(one["B08"].mean()) == pytest.approx(band_value("B08", 1) * 1e-4 - 0.1, abs=1e-4)
    assert ts.sizes["time"] == 2
    assert np.isnan(ts["B04"].isel(time=1).values).any()  # the clouded rows of scene 3


def test_no_scene_is_a_clear_error(stac_api, park):
    with pytest.raises(SourceError, match="widen the dates"):
        load_imagery(stac_api, park, start="2023-01-01", end="2023-01-31")


def test_gdal_reads_retry_a_503(stac_api, park, server):
    red = next(p for p in server.files if p.endswith("20240501_L2A_B04.tif"))
    server.fault(red, "503")
    with set_options(ring_m=300):
        ds = load_imagery(stac_api, park, start="2024-05-01", end="2024-05-02", resolution=20, bands=["B04"])
    assert not np.isnan(ds["B04"].values).all()
    assert not server.faults[red]  # the fault was met and retried


def test_screen_imagery_url_goes_through_load_imagery(stac_api, park):
    from parkscan.sources import imagery
    with set_options(ring_m=300):
        ds = imagery.open_imagery(stac_api, park, period="2024-05-01/2024-05-31", resolution=20)
    assert "B04" in ds and ds["B04"].dims == ("time", "y", "x") and ds.rio.crs == park.crs
