"""FIRMS, LST and GPPD readers."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import rasterio
from shapely.geometry import box

from parkscan.aoi import Park
from parkscan.aoi.errors import DataQualityWarning, SourceIOError
from parkscan.sources.readers.firms import read_firms
from parkscan.sources.readers.gppd import GPPD_ATTRIBUTION, plants_near_park, read_gppd
from parkscan.sources.readers.lst import LANDSAT_ST_OFFSET, LANDSAT_ST_SCALE, landsat_date, read_lst

from _sat_paths import GPPD_CHINA, real

VIIRS = """latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,instrument,confidence,version,bright_ti5,frp,daynight
31.30512,120.60123,340.12,0.39,0.36,2020-03-01,5,N,VIIRS,n,2.0NRT,288.1,12.3,D
31.30512,120.60123,340.12,0.39,0.36,2020-03-01,5,N,VIIRS,n,2.0NRT,288.1,12.3,D
,120.60123,340.12,0.39,0.36,2020-03-02,1736,1,VIIRS,h,2.0NRT,288.1,12.3,N
31.3,120.6,340.12,0.39,0.36,2020-03-32,1736,N,VIIRS,q,2.0NRT,288.1,-2,N
31.31,120.61,330.5,0.42,0.37,2020-03-03,1812,N,VIIRS,l,2.0NRT,285.3,4.1,N
"""
MODIS = """latitude,longitude,brightness,scan,track,acq_date,acq_time,satellite,instrument,confidence,version,bright_t31,frp,daynight,type
31.3,120.6,320.4,1.0,1.0,2020-03-01,0255,T,MODIS,85,6.1NRT,295.2,21.0,D,2
31.3,120.6,318.4,1.0,1.0,2020-03-02,0535,A,MODIS,150,6.1NRT,295.2,21.0,D,2
"""


def test_firms_viirs_flags_not_drops(tmp_path):
    p = tmp_path / "fire_nrt_SV-C2.csv"
    p.write_text(VIIRS)
    with pytest.warns(DataQualityWarning, match="3 of 5"):
        df = read_firms(p)
    assert len(df) == 5 and df.attrs["sensor"] == "VIIRS"
    assert df["valid"].tolist() == [True, False, False, False, True]
    assert "duplicate" in df.flag[1] and "missing coordinates" in df.flag[2]
    assert {"bad acq_date/acq_time", "unknown confidence", "negative frp"} <= set(df.flag[3].split("; "))
    assert str(df.time[0]) == "2020-03-01 00:05:00+00:00"  # acq_time 5 = 00:05 UTC
    assert df.confidence_class.tolist()[:1] == ["nominal"] and df.confidence_class[4] == "low"
    assert df["type"].isna().all()  # no type column: allowed
    assert df.brightness_k[0] == pytest.approx(340.12)


def test_firms_modis_variant(tmp_path):
    p = tmp_path / "fire_archive_M-C61.csv"
    p.write_text(MODIS)
    with pytest.warns(DataQualityWarning):
        df = read_firms(p)
    assert df.attrs["sensor"] == "MODIS"
    assert df.confidence_pct[0] == 85 and df.confidence_class[0] == "high"
    assert not df.valid[1] and "bad confidence" in df.flag[1]
    assert df["type"].tolist() == [2, 2] and df.satellite_name[0] == "Terra"


def test_firms_missing_column(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("lat,lon,frp\n1,2,3\n")
    with pytest.raises(SourceIOError, match=r"x.csv: not a FIRMS.*latitude"):
        read_firms(p)


@pytest.fixture()
def grid_park():
    park = Park(id="p", name="p", approved=box(120.59, 31.29, 120.61, 31.31))
    return park, park.grid(30, ring_m=300)


def _tif(path, arr, grid, dtype, nodata=None, crs=True):
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1, dtype=dtype,
                       crs=grid.crs.to_wkt() if crs else None, transform=grid.transform, nodata=nodata) as ds:
        ds.write(arr.astype(dtype), 1)
    return path


def test_landsat_st_b10_scale_and_qa(tmp_path, grid_park):
    park, g = grid_park
    dn = np.full(g.shape, 44000, "uint16")
    dn[0, :] = 0  # fill
    qa = np.full(g.shape, 0b0000000000000000, "uint16")
    qa[5:8, 5:8] = 1 << 3  # cloud
    name = "LC08_L2SP_118038_20200806_20200916_02_T1"
    f = _tif(tmp_path / f"{name}_ST_B10.TIF", dn, g, "uint16", nodata=0)
    _tif(tmp_path / f"{name}_QA_PIXEL.TIF", qa, g, "uint16")
    lst = read_lst(f, g)
    k = 44000 * LANDSAT_ST_SCALE + LANDSAT_ST_OFFSET
    assert lst.attrs["kind"] == "landsat_c2_st" and lst.attrs["date"] == "2020-08-06"
    assert float(np.nanmedian(lst)) == pytest.approx(k, abs=1e-3)
    assert np.isnan(lst.values[0]).all() and np.isnan(lst.values[5:8, 5:8]).all()
    assert lst.attrs["n_cloud_masked"] == 9
    assert lst.rio.crs == g.crs and lst.rio.transform() == g.transform  # the documented CRS is set
    assert landsat_date("nothing.tif") is None


def test_generic_lst_celsius_and_kelvin(tmp_path, grid_park):
    _, g = grid_park
    c = _tif(tmp_path / "lst_c.tif", np.full(g.shape, 31.5), g, "float32")
    k = _tif(tmp_path / "lst_k.tif", np.full(g.shape, 304.65), g, "float32")
    assert float(np.nanmean(read_lst(c, g))) == pytest.approx(304.65, abs=1e-3)
    assert read_lst(c, g).attrs["units_in"] == "C"
    assert float(np.nanmean(read_lst(k, g))) == pytest.approx(304.65, abs=1e-3)
    bad = _tif(tmp_path / "ndvi.tif", np.full(g.shape, 0.4), g, "float32")
    with pytest.raises(SourceIOError, match="not a land-surface temperature"):
        read_lst(bad, g, units="K")
    nocrs = _tif(tmp_path / "nocrs.tif", np.full(g.shape, 300.0), g, "float32", crs=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SourceIOError, match="no CRS"):
            read_lst(nocrs, g)


def test_gppd_real_china():
    df = read_gppd(real(*GPPD_CHINA), fuels=("Coal",))
    assert len(df) > 900 and set(df.fuel) == {"Coal"}
    assert df.attrs["attribution"] == GPPD_ATTRIBUTION
    # Shanghai Waigaoqiao area: the nearest coal plants within 10 km of a box there
    park = Park(id="sh", name="sh", approved=box(121.55, 31.33, 121.62, 31.38))
    near = plants_near_park(df, park, within_m=10_000)
    assert len(near) >= 1 and (near.distance_m.diff().dropna() >= 0).all()


def test_gppd_bad_columns(tmp_path):
    p = tmp_path / "plants.csv"
    p.write_text("foo,bar\n1,2\n")
    with pytest.raises(SourceIOError, match="no column for name, fuel, lat, lon"):
        read_gppd(p)


def test_landsat_ndvi_from_sr_bands(tmp_path, grid_park):
    from parkscan.sources.readers.lst import LANDSAT_SR_OFFSET, LANDSAT_SR_SCALE, read_landsat_ndvi

    _, g = grid_park
    name = "LC08_L2SP_118038_20200806_20200916_02_T1"
    st = _tif(tmp_path / f"{name}_ST_B10.TIF", np.full(g.shape, 44000), g, "uint16", nodata=0)
    assert read_landsat_ndvi(st, g) is None  # no SR bands next to it
    dn = lambda r: np.full(g.shape, round((r - LANDSAT_SR_OFFSET) / LANDSAT_SR_SCALE))  # noqa: E731
    _tif(tmp_path / f"{name}_SR_B4.TIF", dn(0.05), g, "uint16", nodata=0)
    _tif(tmp_path / f"{name}_SR_B5.TIF", dn(0.35), g, "uint16", nodata=0)
    ndvi = read_landsat_ndvi(st, g)
    assert np.nanmean(ndvi) == pytest.approx(0.3 / 0.4, abs=1e-3)


def test_gppd_published_table_columns(tmp_path):
    p = tmp_path / "global_power_plant_database.csv"
    p.write_text("country,country_long,name,gppd_idnr,capacity_mw,latitude,longitude,primary_fuel,commissioning_year,owner\n"
                 "CHN,China,Huaneng Taicang,WRI1234,1260,31.6,121.2,Coal,2006,Huaneng\n"
                 "CHN,China,Somewhere,WRI9,10,,,Solar,,\n")
    df = read_gppd(p)
    assert df.plant_id.tolist() == ["WRI1234"] and df.fuel[0] == "Coal" and df.capacity_mw[0] == 1260
    assert df.attrs["n_no_location"] == 1
