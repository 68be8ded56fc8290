"""read_parks: batch files where one broken park does not stop the others."""
from __future__ import annotations

import pytest

from parkscan.aoi import AOIError, Park, read_parks

from .conftest import feature, square


def test_geojson_batch_grouped_by_id_with_one_broken(fc):
    feats = [feature([square(112 + i * 1.3, 30)], id=f"P{i}", name=f"园区{i}", enterprises=f"e{i}.csv") for i in range(3)]
    feats.append(feature([square(113.5, 31)], id="P1", name="园区1", role="managed"))  # second feature of P1
    feats.append(feature([[[113, 31], [113.01, 31], [113.02, 31], [113, 31]]], id="PX", name="broken"))
    out = read_parks(fc("parks.geojson", feats))
    ids = [pid for pid, _ in out]
    assert ids == ["P0", "P1", "P2", "PX"]
    parks = dict(out)
    assert all(isinstance(parks[k], Park) for k in ("P0", "P1", "P2"))
    assert parks["P1"].managed is not None and parks["P1"].name == "园区1"
    assert parks["P0"].metadata["enterprises"] == "e0.csv"  # per-park attributes reach metadata
    assert isinstance(parks["PX"], AOIError) and "zero area" in str(parks["PX"])


def test_geojson_batch_without_ids_one_park_per_feature(fc):
    out = read_parks(fc("many.geojson", [feature([square(112, 30)]), feature([square(114, 30)])]))
    assert [pid for pid, _ in out] == ["many-1", "many-2"]


def test_csv_points_with_area_become_circles(tmp_path):
    f = tmp_path / "parks.csv"
    f.write_text("编号,名称,经度,纬度,面积(公顷)\nA1,甲园区,120.6,31.3,500\nA2,乙园区,116.4,39.9,\n"
                 "A3,丙园区,31.3,120.6,300\n", encoding="gbk")
    out = dict(read_parks(f))
    a1 = out["A1"]
    assert isinstance(a1, Park) and a1.metadata["approximate"] is True
    assert a1.area_ha()["approved"] == pytest.approx(500, rel=0.01)
    assert a1.approved.centroid.x == pytest.approx(120.6, abs=1e-4)
    assert isinstance(out["A2"], AOIError) and "row 3" in str(out["A2"])
    assert isinstance(out["A3"], AOIError) and "(lat, lon)" in str(out["A3"])


def test_csv_points_km2_and_gcj02(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("id,name,lng,lat,area_km2\nB,b,120.6,31.3,2\n", encoding="utf-8-sig")
    (pid, park), = read_parks(f, datum="gcj02")
    assert park.area_ha()["approved"] == pytest.approx(200, rel=0.01)
    assert park.approved.centroid.x < 120.6  # GCJ-02 point moved back west to WGS-84


def test_missing_batch_file_raises(tmp_path):
    with pytest.raises(AOIError, match="not found"):
        read_parks(tmp_path / "none.geojson")


def test_bad_role_sinks_only_its_park(fc):
    out = dict(read_parks(fc("b.geojson", [feature([square(112, 30)], id="A", role="approved"),
                                           feature([square(114, 30)], id="B", role="缓冲区")])))
    assert isinstance(out["A"], Park)
    assert isinstance(out["B"], AOIError) and "缓冲区" in str(out["B"])


def test_area_units_in_chinese_headers(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("园区名称,经度,纬度,面积（平方公里）\n甲,120.6,31.3,3\n", encoding="utf-8")
    (pid, park), = read_parks(f)
    assert park.area_ha()["approved"] == pytest.approx(300, rel=0.01)
    f.write_text("园区名称,经度,纬度,面积\n甲,120.6,31.3,3\n", encoding="utf-8")  # bare 面积 = hectares
    (pid, park), = read_parks(f)
    assert park.area_ha()["approved"] == pytest.approx(3, rel=0.01)
