"""The files open with the standard readers and follow the real formats."""
from __future__ import annotations

import json

import h5netcdf
import numpy as np
import pandas as pd
import pytest
import rasterio

from parkscan.sources.simulate import load_scenario
from parkscan.sources.simulate.fires import FIRMS_COLUMNS
from parkscan.sources.simulate.mobile import COLUMNS


def test_scenario_json_maps_inputs(small):
    sc = json.loads((small.out_dir / "scenario.json").read_text(encoding="utf-8"))
    assert set(sc) >= {"park", "enterprises", "mobile", "mobile_datum", "imagery", "before", "after", "no2", "so2",
                       "thermal", "fires", "wind", "preset", "seed"}
    for key in ("park", "enterprises", "imagery", "thermal", "fires"):
        assert (small.out_dir / sc[key]).exists(), key
    assert len(sc["so2"]) == len(sc["no2"])
    for p in sc["mobile"] + sc["no2"] + sc["so2"]:
        assert (small.out_dir / p).exists()
    assert sc["preset"] == "small" and sc["seed"] == 11
    assert set(sc["wind"]) == {"from_deg", "speed_ms"}
    again = load_scenario(small.out_dir)
    assert again.inputs()["mobile"] == list(small.mobile)
    assert again.inputs()["before"] == "2023-05-01/2023-07-31"


def test_park_geojson_roles(small):
    import geopandas as gpd

    g = gpd.read_file(small.park)
    assert set(g["role"]) == {"approved", "managed"}
    local = g.to_crs(small.truth["park"]["crs"])
    appr = local[g["role"] == "approved"].union_all()
    man = local[g["role"] == "managed"].union_all()
    assert 400e4 < appr.area < 1500e4  # 4–15 km²
    assert man.difference(appr).area > 10e4  # the managed boundary extends beyond the approved one
    assert any("\u4e00" <= ch <= "\u9fff" for ch in g["name"].iloc[0])


def test_hard_has_subparks(hard):
    import geopandas as gpd

    g = gpd.read_file(hard.park)
    assert sorted(g.loc[g["role"] == "approved", "subpark"]) == ["东区", "西区"]


def test_enterprises_csv(small):
    raw = small.enterprises.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(small.enterprises, encoding="utf-8-sig", dtype={"统一社会信用代码": str})
    assert list(df.columns) == ["统一社会信用代码", "企业名称", "经度", "纬度", "所属行业"]
    assert 15 <= len(df) <= 40
    assert df["统一社会信用代码"].str.len().eq(18).all() and df["统一社会信用代码"].is_unique
    assert df["所属行业"].nunique() >= 5
    assert df["经度"].between(120, 121.5).all() and df["纬度"].between(30.5, 32).all()


def test_s2_geotiffs(small):
    files = sorted(small.imagery.glob("S2_L2A_*.tif"))
    assert [f.name for f in files] == ["S2_L2A_20230615.tif", "S2_L2A_20250620.tif"]
    with rasterio.open(files[0]) as src:
        assert src.descriptions == ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12", "SCL")
        assert src.dtypes[0] == "uint16" and src.res == (10.0, 10.0)
        assert src.scales[:10] == (1e-4,) * 10 and src.offsets[:10] == (0.0,) * 10
        assert src.crs.to_epsg() == 32651
        assert src.tags()["ACQUISITION_DATE"] == "2023-06-15"
        refl = src.read(3).astype(float) * src.scales[2]
        assert 0.01 < np.median(refl) < 0.3
        scl = src.read(11)
        assert set(np.unique(scl)) <= {3, 4, 5, 6, 8, 9}
        assert {4, 5, 6} <= set(np.unique(scl))


def test_mobile_csv(small, hard):
    for sc in (small, hard):
        for f in sc.mobile:
            assert f.read_bytes().startswith(b"\xef\xbb\xbf")
            df = pd.read_csv(f, encoding="utf-8-sig")
            assert list(df.columns) == COLUMNS
            t = pd.to_datetime(df["采样时间"])
            dt = t.diff().dt.total_seconds().dropna()
            assert (dt == 1).mean() > 0.99  # 1 Hz
            assert df["车速(km/h)"].median() == pytest.approx(27, abs=8)
    assert small.mobile_datum == "wgs84" and hard.mobile_datum == "gcj02"


def test_s5p_layout(small):
    f = small.no2[0]
    assert f.name.startswith("S5P_OFFL_L2__NO2____") and "_01_020400_" in f.name
    with h5netcdf.File(f, "r") as nc:
        p = nc["PRODUCT"]
        assert dict(p.dimensions.items()).keys() >= {"time", "scanline", "ground_pixel", "corner"}
        col = p["nitrogendioxide_tropospheric_column"]
        assert col.dimensions == ("time", "scanline", "ground_pixel") and col.attrs["units"] == "mol m-2"
        assert "nitrogendioxide_tropospheric_column_precision" in p.variables
        qa = p["qa_value"]
        assert qa.dtype == np.uint8 and float(qa.attrs["scale_factor"]) == pytest.approx(0.01)
        lb = p["SUPPORT_DATA/GEOLOCATIONS/latitude_bounds"]
        assert lb.dimensions == ("time", "scanline", "ground_pixel", "corner")
        assert p["delta_time"].attrs["units"].startswith("milliseconds since")
        assert nc.attrs["time_coverage_start"].endswith("Z")


def test_s5p_project_reader(small):
    from parkscan.sources.readers import s5p as read
    t = small.truth["park"]["center"]
    ds = read.read_s5p(small.no2[0], bbox=(t["lon"] - 0.3, t["lat"] - 0.3, t["lon"] + 0.3, t["lat"] + 0.3))
    assert ds.sizes["pixel"] > 20
    assert float(ds["qa_value"].min()) > 0.75
    assert 1e-5 < float(ds["value"].median()) < 3e-4


def test_thermal_st_b10(small):
    with rasterio.open(small.thermal) as src:
        assert src.descriptions == ("ST_B10",) and src.res == (30.0, 30.0)
        assert src.scales[0] == pytest.approx(0.00341802) and src.offsets[0] == pytest.approx(149.0)
        k = src.read(1, masked=True).astype(float) * src.scales[0] + src.offsets[0]
        assert 290 < float(k.min()) and float(k.max()) < 360


def test_firms_csv(small):
    df = pd.read_csv(small.fires, dtype={"acq_time": str})
    assert list(df.columns) == FIRMS_COLUMNS
    assert df["acq_time"].str.fullmatch(r"\d{4}").all()
    assert set(df["satellite"]) == {"N"} and set(df["instrument"]) == {"VIIRS"}
    assert set(df["confidence"]) <= {"l", "n", "h"} and set(df["daynight"]) <= {"D", "N"}
    assert (df["scan"] >= df["track"]).all()


def test_s5p_so2_same_orbits(small):
    from parkscan.sources.readers import s5p as read
    for n, s in zip(small.no2, small.so2):
        assert s.name.startswith("S5P_OFFL_L2__SO2____") and s.name[20:] == n.name[20:]
    with h5netcdf.File(small.so2[0], "r") as nc:
        assert "sulfurdioxide_total_vertical_column" in nc["PRODUCT"].variables
        assert nc["METADATA/GRANULE_DESCRIPTION"].attrs["ProductShortName"] == "L2__SO2___"
    t = small.truth["park"]["center"]
    ds = read.read_s5p(small.so2[0], bbox=(t["lon"] - 0.3, t["lat"] - 0.3, t["lon"] + 0.3, t["lat"] + 0.3))
    assert ds.attrs["product"] == "SO2" and ds.sizes["pixel"] > 20
    assert small.truth["so2"]["total_so2_kt_per_year"] > 0


def test_project_readers_take_the_park_and_enterprises(small, hard):
    from parkscan.aoi.boundaries import read_park
    from parkscan.aoi.enterprises import read_enterprises

    park = read_park(small.park)
    a = park.area_ha()
    assert a["approved"] == pytest.approx(small.truth["park"]["area_ha"]["approved"], rel=1e-3)
    assert a["managed_outside_approved"] == pytest.approx(small.truth["park"]["area_ha"]["managed_outside_approved"],
                                                          rel=1e-3)
    ent = read_enterprises(small.enterprises)
    assert len(ent) == small.truth["park"]["n_enterprises"]
    assert {s["enterprise_id"] for s in small.truth["sources"]} <= set(ent["enterprise_id"])
    names = {s.name for s in read_park(hard.park).subparks}
    assert {"西区", "东区"} <= names
