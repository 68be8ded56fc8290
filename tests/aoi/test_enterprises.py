"""read_enterprises: encodings, headers, XLSX/GeoJSON, flagged rows, industry keys."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from parkscan.aoi import AOIError, read_enterprises
from parkscan.aoi.datum import convert
from parkscan.aoi.enterprises import INDUSTRY_KEYS, industry_key
from parkscan.aoi.errors import DataQualityWarning

CSV = (
    "统一社会信用代码,企业名称,经度,纬度,所属行业,地址\n"
    'E1,"<script>alert(1)</script>",113.305,23.105,化工,甲路1号\n'
    "E2,乙涂装厂,113.315,23.112,喷涂,\n"
    ",丙电子,113.325,23.118,电子,\n"
    "E4,丁纺织,23.1,113.3,纺织,\n"          # row 5: swapped
    "E5,戊印刷,abc,23.1,印刷,\n"            # row 6: not a number
    "E6,己,,23.1,,\n"                       # row 7: missing
    "E2,重复,113.2,23.1,,\n"                # row 8: duplicate id
    "E8,,113.33,23.12,石油化工,\n"          # row 9: no name (kept)
    "E9,庚,\"113°19'30\"\"E\",23°7'N,电镀,\n"  # row 10: DMS
    "E10,辛,200,23.1,食品,\n"               # row 11: out of range
)


def _read(path, **kw):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        gdf = read_enterprises(path, **kw)
    return gdf, [x for x in w if issubclass(x.category, DataQualityWarning)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_and_flagged_rows(tmp_path, encoding):
    f = tmp_path / "企业.csv"
    f.write_bytes(CSV.encode(encoding))
    gdf, warns = _read(f)
    assert list(gdf.columns[:8]) == ["enterprise_id", "name", "industry", "industry_key", "lon", "lat", "datum", "row"]
    assert gdf["enterprise_id"].tolist() == ["E1", "E2", "E001", "E8", "E9"]
    assert gdf["name"].iloc[0] == "<script>alert(1)</script>"  # verbatim
    assert gdf["industry_key"].tolist() == ["chemical", "coating", "electronics", "petrochemical", "metal_plating"]
    assert gdf.loc[gdf.enterprise_id == "E9", "lon"].item() == pytest.approx(113 + 19.5 / 60)
    assert gdf.crs.to_epsg() == 4326 and gdf.geometry.x.tolist() == gdf["lon"].tolist()
    flags = {(f["row"], f["field"]): f for f in gdf.attrs["flagged"]}
    assert "swapped" in flags[(5, "lon/lat")]["reason"]
    assert "not a number" in flags[(6, "lon")]["reason"] and flags[(6, "lon")]["value"] == "abc"
    assert "missing" in flags[(7, "lon")]["reason"]
    assert "duplicate id (first on row 3)" in flags[(8, "enterprise_id")]["reason"]
    assert flags[(9, "name")]["kept"] is True
    assert "out of range" in flags[(11, "lon")]["reason"]
    assert len(warns) == 1 and "row 5" in str(warns[0].message)
    assert gdf.attrs["encoding"] in ("utf-8-sig", "gbk/gb18030")


def test_xlsx_english_headers_and_datum_column(tmp_path):
    f = tmp_path / "e.xlsx"
    gx, gy = convert(120.61, 31.31, "wgs84", "gcj02")
    pd.DataFrame({"Name": ["A", "B"], "Longitude": [gx, 120.62], "Latitude": [gy, 31.32],
                  "Industry": ["Chemical", "textile dyeing"], "Datum": ["GCJ-02", ""]}).to_excel(f, index=False)
    gdf, warns = _read(f)
    assert not warns and gdf["enterprise_id"].tolist() == ["E001", "E002"]
    assert gdf["lon"].iloc[0] == pytest.approx(120.61, abs=1e-9) and gdf["datum"].tolist() == ["gcj02", "wgs84"]
    assert gdf["industry_key"].tolist() == ["chemical", "textile"]


def test_datum_argument_is_default_for_rows(tmp_path):
    f = tmp_path / "e.csv"
    bx, by = convert(116.40, 39.90, "wgs84", "bd09")
    f.write_text(f"名称,经度,纬度\n甲,{bx:.10f},{by:.10f}\n", encoding="utf-8")
    gdf, _ = _read(f, datum="bd09")
    assert gdf["lon"].item() == pytest.approx(116.40, abs=1e-8) and gdf["lat"].item() == pytest.approx(39.90, abs=1e-8)


def test_geojson_points(tmp_path):
    f = tmp_path / "e.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"单位名称": "甲", "行业类别": "水泥"},
         "geometry": {"type": "Point", "coordinates": [120.61, 31.31]}},
        {"type": "Feature", "properties": {"单位名称": "乙"}, "geometry": None}]}, ensure_ascii=False), encoding="utf-8")
    gdf, warns = _read(f)
    assert gdf["name"].tolist() == ["甲"] and gdf["industry_key"].tolist() == ["cement"]
    assert gdf.attrs["flagged"][0]["row"] == 2 and warns


def test_semicolon_and_tab_delimiters(tmp_path):
    f = tmp_path / "e.txt"
    f.write_text("name;lon;lat\nA;120.6;31.3\nB;120.7;31.4\n")
    assert len(_read(f)[0]) == 2


def test_no_usable_row_is_an_error(tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("名称,经度,纬度\n甲,x,y\n乙,,\n", encoding="utf-8")
    with pytest.raises(AOIError, match=r"no usable enterprise row.*row 2 lon"):
        read_enterprises(f)


def test_missing_columns_and_files(tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("名称,地址\n甲,乙\n", encoding="utf-8")
    with pytest.raises(AOIError, match="经度 and 纬度"):
        read_enterprises(f)
    with pytest.raises(AOIError, match="not found"):
        read_enterprises(tmp_path / "x.csv")
    b = tmp_path / "b.csv"
    b.write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(AOIError, match="binary"):
        read_enterprises(b)


@pytest.mark.parametrize("text,key", [("化工", "chemical"), ("涂装", "coating"), ("喷涂", "coating"), ("电子", "electronics"),
                                      ("纺织", "textile"), ("印染", "textile"), ("印刷", "printing"), ("电力", "power"),
                                      ("热电联产", "power"), ("钢铁", "steel"), ("水泥", "cement"), ("建材", "cement"),
                                      ("制药", "pharma"), ("石化", "petrochemical"), ("橡胶", "rubber_plastics"),
                                      ("塑料制品", "rubber_plastics"), ("金属制品", "metal_plating"), ("电镀", "metal_plating"),
                                      ("食品", "food"), ("其他", "other"), ("木材加工", "other"), ("", None)])
def test_industry_keys(text, key):
    assert industry_key(text) == key
    assert key is None or key in INDUSTRY_KEYS


def test_generated_ids_are_unique_and_padded(tmp_path):
    f = tmp_path / "e.csv"
    rows = "\n".join(f"企业{i},{120 + i * 0.001:.3f},31.3" for i in range(12))
    f.write_text("企业名称,经度,纬度\n" + rows + "\n", encoding="utf-8")
    gdf, _ = _read(f)
    assert gdf["enterprise_id"].is_unique and gdf["enterprise_id"].iloc[11] == "E012"
    assert np.all(gdf["row"].to_numpy() == np.arange(2, 14))


def test_title_rows_above_the_header(tmp_path):
    # Chinese spreadsheets often start with a title line; row numbers stay those the user sees
    f = tmp_path / "名单.csv"
    f.write_text("某某园区重点企业名单（2024年）\n\n序号,企业名称,经度(°),纬度(°),行业类别\n1,甲,120.61,31.31,化工\n2,乙,x,31.32,印染\n",
                 encoding="gbk")
    gdf, warns = _read(f)
    assert gdf["name"].tolist() == ["甲"] and gdf["序号"].tolist() == ["1"]
    assert gdf["row"].tolist() == [4] and gdf.attrs["flagged"][0]["row"] == 5
    x = tmp_path / "名单.xlsx"
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["某某园区重点企业名单"])
    ws.append(["统一社会信用代码", "单位名称", "经度", "纬度"])
    ws.append(["91320500MA1", "丙", 120.62, 31.32])
    ws.append([None, None, None, None])
    ws.append(["91320500MA2", "丁", "120.63", None])
    wb.save(x)
    gdf, _ = _read(x)
    assert gdf["enterprise_id"].tolist() == ["91320500MA1"] and gdf["row"].tolist() == [3]
    assert gdf.attrs["flagged"][0]["row"] == 5 and gdf.attrs["flagged"][0]["field"] == "lat"


def test_semicolon_file_with_decimal_commas_and_padded_cells(tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("名称;经度;纬度\n 甲 ;120,5;31,2\n", encoding="utf-8")
    gdf, _ = _read(f)
    assert gdf[["name", "lon", "lat"]].values.tolist() == [["甲", 120.5, 31.2]]
