"""Ingest: headers, units, times, readers, joins, datums, cleaning flags."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from parkscan.aoi.errors import ParkscanError, SourceError
from parkscan.sources.mobile import map_columns, parse_time, read_mapping, read_mobile
from parkscan.sources.mobile.headers import match_role, split_header
from parkscan.sources.mobile.units import convert

from .conftest import loop_track, xy_to_lonlat

pytestmark = pytest.mark.filterwarnings("ignore::parkscan.aoi.errors.DataQualityWarning")


@pytest.mark.parametrize("header, role, unit", [
    ("采样时间", "time", None), ("经度", "lon", None), ("纬度(°)", "lat", "deg"), ("TVOC(ppb)", "tvoc", "ppb"),
    ("苯(ppb)", "benzene", "ppb"), ("甲苯(ppb)", "toluene", "ppb"), ("二甲苯（ppb）", "xylene", "ppb"),
    ("PM2.5(μg/m³)", "pm25", "ug/m3"), ("PM10浓度(ug/m3)", "pm10", "ug/m3"), ("NO2 (ppb)", "no2", "ppb"),
    ("二氧化硫浓度(mg/m³)", "so2", "mg/m3"), ("H2S(ppb)", "h2s", "ppb"), ("氨(ppm)", "nh3", "ppm"),
    ("风向(°)", "wind_dir", "deg"), ("风速(m/s)", "wind_speed", "m/s"), ("车速(km/h)", "speed", "km/h"),
    ("Latitude", "lat", None), ("Longitude", "lon", None), ("AE51_BC (ug/m3)", "bc", "ug/m3"),
    ("CPC3007_Particle Concentration (#/cm3)", "pn", "#/cm3"), ("LI-COR_CO2 (ppm)", "co2", "ppm"),
    ("date(LT)", "time", "local"), ("Wind Speed", "wind_speed", None), ("序号", None, None),
])
def test_header_roles(header, role, unit):
    r, u, _ = match_role(header)
    assert r == role
    if role is not None:
        assert u == unit


def test_corrected_variant_preferred():
    cm = map_columns(["date(LT)", "Latitude", "Longitude", "AE51_BC (ug/m3)", "AE51_BC_NR (ug/m3)", "AE51_BC_NR_LC (ug/m3)"])
    assert {v: k for k, v in cm.roles.items()}["bc"] == "AE51_BC_NR_LC (ug/m3)"
    assert "AE51_BC (ug/m3)" in cm.ignored and cm.time_hint == "local"


def test_split_header_units():
    assert split_header("NO2 ppb") == ("no2", "ppb")
    assert split_header("CO [mg/m³]") == ("co", "mg/m3")


def test_units_round_trip_and_tvoc():
    v = convert([10.0], "so2", "ppb", "ug/m3")
    assert v[0] == pytest.approx(10 * 64.066 / 24.465, rel=1e-3)
    assert convert(v, "so2", "ug/m3", "ppb")[0] == pytest.approx(10.0)
    assert convert([1.0], "benzene", "ppm", "mg/m3", temp_c=0.0)[0] == pytest.approx(78.11 / 22.414, rel=1e-3)
    with pytest.raises(SourceError, match="molar mass"):
        convert([1.0], "tvoc", "ppb", "ug/m3")


def test_parse_time_variants():
    s = parse_time(pd.Series(["2025/6/10 9:00:01", "2025-06-10 09:00:02", "x"]))
    assert s.iloc[1] == pd.Timestamp("2025-06-10 09:00:02") and pd.isna(s.iloc[2])
    assert parse_time(pd.Series([45818.375]))[0] == pd.Timestamp("2025-06-10 09:00:00")
    assert parse_time(pd.Series([1749546000000]))[0] == pd.Timestamp("2025-06-10 09:00:00")


def test_vendor_csv_gbk_semicolon_header_block(tmp_path):
    df = loop_track(1).head(300)
    text = "仪器型号: XH-2000\n操作员: 张三\n\n" + df.to_csv(index=False, sep=";")
    p = tmp_path / "gbk.txt"
    p.write_bytes(text.encode("gbk"))
    run = read_mobile(p)
    f = run.files[0]
    assert f.encoding == "gb18030" and f.delimiter == ";" and f.meta["仪器型号"] == "XH-2000"
    assert set(run.pollutants) >= {"tvoc", "toluene", "xylene", "so2"}
    assert run.units["so2"] == "ug/m3" and run.units["tvoc"] == "ppb"
    assert run.points["so2"].median() == pytest.approx(4 * 64.066 / 24.465, rel=0.05)
    assert run.points["row"].iloc[0] == 5  # line numbers of the file


def test_xlsx_with_header_block(tmp_path):
    df = loop_track(1).head(200)
    p = tmp_path / "run.xlsx"
    with pd.ExcelWriter(p, engine="openpyxl") as xw:
        pd.DataFrame([["导出时间", "2025-06-10"], ["设备", "VOC-1"]]).to_excel(xw, index=False, header=False, startrow=0)
        df.to_excel(xw, index=False, startrow=3)
    run = read_mobile(p)
    assert run.files[0].reader == "xlsx" and len(run.points) == 200 and "tvoc" in run.pollutants


def test_gpx_track_plus_instrument_log_with_tz_and_clock_offset(tmp_path):
    df = loop_track(1, start="2025-06-10 01:00:00").head(400)  # UTC
    gpx = ['<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>']
    for _, r in df.iterrows():
        gpx.append(f'<trkpt lat="{r["纬度"]}" lon="{r["经度"]}"><time>{r["采样时间"].replace(" ", "T")}Z</time></trkpt>')
    gpx.append("</trkseg></trk></gpx>")
    (tmp_path / "track.gpx").write_text("".join(gpx))
    # instrument clock in Beijing time and 7 s fast
    inst = pd.DataFrame({"时间": (pd.to_datetime(df["采样时间"]) + pd.Timedelta(hours=8, seconds=7)).dt.strftime("%Y-%m-%d %H:%M:%S"),
                         "NO2(ppb)": np.arange(len(df), dtype=float)})
    inst.to_csv(tmp_path / "no2.csv", index=False)
    run = read_mobile([tmp_path / "track.gpx", tmp_path / "no2.csv"], tz={"no2.csv": "Asia/Shanghai"}, clock_offset_s={"no2.csv": -7})
    kinds = {f.path.rsplit("/", 1)[-1]: f.kind for f in run.files}
    assert kinds == {"track.gpx": "track", "no2.csv": "instrument"}
    p = run.points
    # NO2 value i belongs to GPS fix i: converted ppb → µg/m³ exactly
    i = 123
    assert p["no2"].iloc[i] == pytest.approx(convert(i, "no2", "ppb", "ug/m3")[()], rel=1e-6)


def test_instrument_rows_outside_track_are_flagged(tmp_path):
    df = loop_track(1).head(100)
    df[["采样时间", "经度", "纬度"]].to_csv(tmp_path / "gps.csv", index=False)
    inst = pd.DataFrame({"time": pd.date_range("2025-06-10 08:59:00", periods=200, freq="1s").strftime("%Y-%m-%d %H:%M:%S"), "SO2(ppb)": 5.0})
    inst.to_csv(tmp_path / "so2.csv", index=False)
    run = read_mobile([tmp_path / "gps.csv", tmp_path / "so2.csv"])
    nofix = run.flags[run.flags["code"] == "NO_GPS_FIX"]
    assert len(nofix) == 98  # 60 s before and 40 s after the track, except the two rows 1 s from its ends
    assert run.points["so2"].notna().sum() == 100


def test_gcj02_track_converted(tmp_path):
    from parkscan.aoi.datum import convert as dconvert

    df = loop_track(1).head(100)
    lon, lat = dconvert(df["经度"].to_numpy(), df["纬度"].to_numpy(), "wgs84", "gcj02")
    df["经度"], df["纬度"] = lon, lat
    df.to_csv(tmp_path / "gcj.csv", index=False)
    run = read_mobile(tmp_path / "gcj.csv", datum="gcj02")
    orig = loop_track(1).head(100)
    assert np.abs(run.points["lon"].to_numpy() - orig["经度"].to_numpy()).max() < 1e-6
    assert "DATUM_CONVERTED" in set(run.flags["code"])


def test_mapping_file_json_and_csv(tmp_path):
    df = pd.DataFrame({"Zeit": pd.date_range("2025-06-10 09:00", periods=50, freq="1s").strftime("%d.%m.%Y %H:%M:%S"),
                       "X": np.linspace(120.6, 120.61, 50), "Y": 31.3, "Konz A": 5.0})
    df.to_csv(tmp_path / "odd.csv", index=False)
    with pytest.raises(SourceError, match="mapping"):
        read_mobile(tmp_path / "odd.csv")
    (tmp_path / "m.json").write_text(json.dumps({"columns": {"Zeit": "time", "X": "lon", "Y": "lat", "Konz A": {"to": "no2", "unit": "ppb"}},
                                                 "time_format": "%d.%m.%Y %H:%M:%S", "tz": "+08:00"}))
    run = read_mobile(tmp_path / "odd.csv", mapping=tmp_path / "m.json")
    assert run.pollutants == ("no2",) and run.points["time"].iloc[0] == pd.Timestamp("2025-06-10 01:00", tz="UTC")
    (tmp_path / "m.csv").write_text("column,role,unit\nZeit,time,\nX,lon,\nY,lat,\nKonz A,h2s,ppb\n@time_format,%d.%m.%Y %H:%M:%S\n")
    assert read_mobile(tmp_path / "odd.csv", mapping=tmp_path / "m.csv").pollutants == ("h2s",)
    (tmp_path / "bad.csv").write_text("column,role\nZeit,zeit\n")
    with pytest.raises(SourceError, match="unknown role"):
        read_mapping(tmp_path / "bad.csv")


def test_cleaning_flags(tmp_path):
    df = loop_track(2).head(600).copy()
    df.loc[10, "采样时间"] = df.loc[9, "采样时间"]                       # duplicate
    df.loc[20, "采样时间"] = "2025-06-10 08:00:00"                        # backwards
    lon, lat = xy_to_lonlat(5000, 5000)
    df.loc[30, ["经度", "纬度"]] = [float(lon), float(lat)]                           # GPS jump
    df.loc[40, "TVOC(ppb)"] = -5                                          # negative
    df.loc[50:55, "SO2(ppb)"] = 2000.0                                    # saturation plateau at the column max
    df["甲苯(ppb)"] = df["甲苯(ppb)"].astype(object)
    df.loc[60, "甲苯(ppb)"] = "ERR"
    orig = df[["经度", "纬度"]].to_numpy().copy()
    df.loc[100:300, ["经度", "纬度"]] = np.tile(orig[100], (201, 1))       # parked 200 s, then drives on
    df.loc[301:, ["经度", "纬度"]] = orig[101:400]
    df.to_csv(tmp_path / "f.csv", index=False)
    with pytest.warns(Warning):
        run = read_mobile(tmp_path / "f.csv")
    fl = run.flags
    by = {c: set(fl.loc[fl["code"] == c, "row"].dropna().astype(int)) for c in fl["code"].unique()}
    assert by["DUP_TIME"] == {12} and by["TIME_BACKWARDS"] == {22} and by["GPS_JUMP"] == {32}
    assert by["NEGATIVE"] == {42} and by["SATURATION"] == set(range(52, 58)) and by["BAD_VALUE"] == {62}
    assert len(by["STATIONARY"]) > 150
    p = run.points.set_index("row")
    assert not p.loc[32, "valid"] and np.isnan(p.loc[42, "tvoc"]) and p.loc[42, "valid"]
    assert not p.loc[150, "mappable"] and p.loc[150, "valid"]
    # nothing silently dropped: every input row is in the points table
    assert len(run.points) == 600


def test_lag_configured_shift(tmp_path):
    df = loop_track(1).head(300)
    df.to_csv(tmp_path / "f.csv", index=False)
    a = read_mobile(tmp_path / "f.csv")
    b = read_mobile(tmp_path / "f.csv", lag_s={"tvoc": 5})
    assert b.points["tvoc"].iloc[100] == a.points["tvoc"].iloc[105]
    assert "LAG_SHIFT" in set(b.flags["code"])


def test_bangalore_ingests_without_mapping(bangalore):
    run = read_mobile(bangalore)
    assert set(run.pollutants) == {"bc", "pm25", "pn", "co2"}
    assert run.units == {"pm25": "ug/m3", "bc": "ug/m3", "pn": "#/cm3", "co2": "ppm"}
    assert len(run.points) == 3000 and run.points["valid"].all()
    assert run.dates == ("2019-09-25",)
    assert 15 < run.km_driven() < 25
    assert "TZ_ASSUMED" in set(run.flags["code"])


def test_mapping_file_options_apply(tmp_path):
    from parkscan.aoi.datum import convert as dconvert

    df = loop_track(1).head(60)
    lon, lat = dconvert(df["经度"].to_numpy(), df["纬度"].to_numpy(), "wgs84", "bd09")
    df["经度"], df["纬度"] = lon, lat
    df.to_csv(tmp_path / "bd.csv", index=False)
    (tmp_path / "m.json").write_text(json.dumps({"datum": "bd09", "clock_offset_s": 10, "tz": "Asia/Shanghai"}))
    run = read_mobile(tmp_path / "bd.csv", mapping=tmp_path / "m.json")
    orig = loop_track(1).head(60)
    assert np.abs(run.points["lon"].to_numpy() - orig["经度"].to_numpy()).max() < 1e-6
    assert run.points["time"].iloc[0] == pd.Timestamp("2025-06-10 01:00:10", tz="UTC")
    assert run.files[0].datum == "bd09" and run.files[0].clock_offset_s == 10


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(v=st.floats(0, 1e5), pol=st.sampled_from(["no2", "so2", "benzene", "co", "nh3"]), t=st.floats(-20, 40), p=st.floats(80, 110))
def test_unit_round_trip(v, pol, t, p):
    ug = convert([v], pol, "ppb", "ug/m3", temp_c=t, pressure_kpa=p)
    assert convert(ug, pol, "ug/m3", "ppm", temp_c=t, pressure_kpa=p)[0] * 1000 == pytest.approx(v, rel=1e-9, abs=1e-9)
    # warmer air is less dense: the same mixing ratio is less mass per m³
    assert convert([100.0], pol, "ppb", "ug/m3", temp_c=t + 10, pressure_kpa=p)[0] < convert([100.0], pol, "ppb", "ug/m3", temp_c=t, pressure_kpa=p)[0]


def test_fast_instrument_is_averaged_onto_gps_fixes(tmp_path):
    df = loop_track(1).head(100)
    df[["采样时间", "经度", "纬度"]].to_csv(tmp_path / "gps.csv", index=False)
    t = pd.date_range("2025-06-10 09:00:00", periods=1000, freq="100ms")
    inst = pd.DataFrame({"time": t.strftime("%Y-%m-%d %H:%M:%S.%f"), "CO(mg/m3)": np.arange(1000) % 10 + 0.0})
    inst.to_csv(tmp_path / "co_10hz.csv", index=False)
    run = read_mobile([tmp_path / "gps.csv", tmp_path / "co_10hz.csv"])
    co = run.points["co"].to_numpy()
    # every GPS fix gets the mean of the ~10 readings nearest to it (0..9 → 4.5 in the middle of the run)
    assert np.nanmedian(co[5:95]) == pytest.approx(4.5, abs=0.6) and np.isfinite(co[:99]).all()
