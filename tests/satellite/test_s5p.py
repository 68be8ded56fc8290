"""S5P L2 reader: real headers (file name, metadata, footprint, error path) and small files in the real layout."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from parkscan.aoi.errors import SourceIOError
from parkscan.sources.readers.s5p import parse_s5p_name, read_s5p, read_s5p_metadata

from _sat_paths import NO2_HEADER, SO2_HEADER, real
from _sat_s5p import swath, write_s5p_l2

BBOX = (120.5, 31.2, 120.7, 31.4)


def test_parse_real_names():
    n = parse_s5p_name(NO2_HEADER)
    assert (n.stream, n.product, n.orbit, n.collection, n.processor) == ("OFFL", "NO2", 12367, "01", "010302")
    assert n.start == datetime(2020, 3, 3, 1, 35, 47, tzinfo=timezone.utc)
    assert parse_s5p_name(SO2_HEADER).product == "SO2"
    assert parse_s5p_name("random.nc") is None


@pytest.mark.parametrize("name,product", [(NO2_HEADER, "NO2"), (SO2_HEADER, "SO2")])
def test_real_header_metadata(name, product):
    m = read_s5p_metadata(real("s5p-l2-headers", name))
    assert m.product == product
    assert m.orbit == 12367
    assert m.time_coverage_start == datetime(2020, 3, 3, 1, 57, 22, tzinfo=timezone.utc)
    assert m.footprint is not None and m.footprint.area > 100
    assert m.covers(120.6, 31.3) in (True, None)  # half-orbit over a pole: unknown rather than wrong


@pytest.mark.parametrize("name,var", [(NO2_HEADER, "nitrogendioxide_tropospheric_column"),
                                      (SO2_HEADER, "sulfurdioxide_total_vertical_column")])
def test_real_header_without_pixels_is_a_clear_error(name, var):
    with pytest.raises(SourceIOError) as ei:
        read_s5p(real("s5p-l2-headers", name), bbox=BBOX)
    msg = str(ei.value)
    assert name in msg and f"PRODUCT/{var}" in msg and "download the full" in msg


def test_not_netcdf(tmp_path):
    p = tmp_path / "S5P_OFFL_L2__NO2____20200303T013547_20200303T031717_12367_01_010302_20200306T053815.nc"
    p.write_bytes(b"<html>login required</html>")
    with pytest.raises(SourceIOError, match="not a readable netCDF"):
        read_s5p(p, bbox=BBOX)


def _file(tmp_path, product="NO2", qa=None, lon0=120.6, lat0=31.3):
    lon, lat, lb, ab = swath(lon0, lat0, nscan=20, npix=16)
    val = np.full(lon.shape, 4e-5)
    val[0, 0] = np.nan  # fill value
    qa = np.full(lon.shape, 1.0) if qa is None else qa
    return write_s5p_l2(tmp_path, product=product, lon=lon, lat=lat, lon_b=lb, lat_b=ab, value=val,
                        precision=np.full(lon.shape, 1e-5), qa=qa), (lon, lat, lb, ab)


def test_layout_and_qa_filter(tmp_path):
    qa = np.full((20, 16), 1.0)
    qa[:, :8] = 0.74  # just below the NO2 threshold
    qa[:, 8:10] = 0.76
    f, (lon, lat, lb, ab) = _file(tmp_path, qa=qa)
    ds = read_s5p(f, bbox=(119, 30, 122, 33))
    assert ds.attrs["product"] == "NO2" and ds.attrs["date"] == "2020-03-03"
    assert ds.sizes["pixel"] == 20 * 8 and ds.attrs["n_rejected_qa"] == 20 * 8 - 1  # the fill-value pixel is not counted as QA
    assert ds["lon_bounds"].shape == (160, 4)
    assert np.all(ds["qa_value"] > 0.75)
    np.testing.assert_allclose(ds["value"], 4e-5, rtol=1e-6)
    assert str(ds["time"].values[0])[:16] == "2020-03-03T04:50"
    # corners come from SUPPORT_DATA/GEOLOCATIONS, in the same pixel order
    k = int(np.argmin(np.abs(ds.lon.values - lon[5, 12]) + np.abs(ds.lat.values - lat[5, 12])))
    np.testing.assert_allclose(ds["lon_bounds"].values[k], lb[5, 12], atol=1e-4)
    # a laxer threshold keeps more
    assert read_s5p(f, bbox=(119, 30, 122, 33), qa_min=0.5).sizes["pixel"] == 20 * 16 - 1  # minus the fill value


def test_so2_threshold_and_area(tmp_path):
    qa = np.full((20, 16), 0.6)
    f, (lon, lat, _, _) = _file(tmp_path, product="SO2", qa=qa)
    ds = read_s5p(f, bbox=BBOX)
    assert ds.attrs["product"] == "SO2" and ds.sizes["pixel"] > 0
    inside = (lon >= BBOX[0]) & (lon <= BBOX[2]) & (lat >= BBOX[1]) & (lat <= BBOX[3])
    assert ds.sizes["pixel"] == inside.sum()
    assert read_s5p(f, bbox=(100, 20, 100.1, 20.1)).sizes["pixel"] == 0  # orbit misses the area: empty, no error


def test_park_window(tmp_path, scene):
    _, park, _ = scene
    f, _ = _file(tmp_path)
    ds = read_s5p(f, park=park, ring_m=3000)
    w, s, e, n = park.to_wgs84(park.to_local(park.footprint).buffer(13000)).bounds
    assert ds.sizes["pixel"] > 0
    assert ds.lon.min() >= w and ds.lon.max() <= e and ds.lat.min() >= s and ds.lat.max() <= n


def test_missing_corners(tmp_path):
    import h5py

    f, _ = _file(tmp_path)
    with h5py.File(f, "a") as h:
        del h["PRODUCT/SUPPORT_DATA/GEOLOCATIONS/longitude_bounds"]
    with pytest.raises(SourceIOError, match="longitude_bounds"):
        read_s5p(f, bbox=BBOX)


def test_delta_time_since_day_and_input_winds(tmp_path):
    lon, lat, lb, ab = swath(120.6, 31.3, nscan=10, npix=8)
    f = write_s5p_l2(tmp_path, lon=lon, lat=lat, lon_b=lb, lat_b=ab, value=np.full(lon.shape, 3e-5),
                     precision=np.full(lon.shape, 1e-5), qa=np.ones(lon.shape), delta_since_day=True, wind=(3.0, -1.5))
    ds = read_s5p(f, bbox=(119, 30, 122, 33))
    assert str(ds["time"].values[0])[:16] == "2020-03-03T04:50"
    np.testing.assert_allclose(ds["u"], 3.0)
    np.testing.assert_allclose(ds["v"], -1.5)
