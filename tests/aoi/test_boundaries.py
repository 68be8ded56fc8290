"""read_park on every boundary format, roles, sub-parks, datums and local CRS."""
from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from parkscan.aoi import Park, read_park
from parkscan.aoi.boundaries import role_of
from parkscan.aoi.datum import convert

from .conftest import RING, feature, square


def _gdf(rows, crs="EPSG:4326"):
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def test_geojson_plain_is_approved(fc):
    park = read_park(fc("园区.geojson", [feature([RING])]))
    assert isinstance(park, Park) and park.managed is None and park.subparks == ()
    assert park.name == "园区" and park.id == "园区"
    assert park.area_ha()["approved"] == pytest.approx(950, rel=0.01)
    assert park.metadata["datum"] == "wgs84" and park.metadata["source"].endswith("园区.geojson")


def test_geojson_roles_subparks_chinese_attributes(fc):
    feats = [
        feature([square(120.60, 31.30)], 范围="批复", 子园区="东区", 名称="东区"),
        feature([square(120.70, 31.30)], 范围="规划", 子园区="西区"),
        feature([square(120.61, 31.30, 0.04)], 范围="托管", 子园区="东区"),
    ]
    park = read_park(fc("zone.geojson", feats), name="一区多园")
    assert park.name == "一区多园"
    assert park.approved.geom_type == "MultiPolygon" and len(park.approved.geoms) == 2
    assert park.managed is not None
    names = sorted({(s.name, s.role) for s in park.subparks})
    assert names == [("东区", "approved"), ("东区", "managed"), ("西区", "approved")]
    a = park.area_ha()
    assert a["managed_outside_approved"] == pytest.approx(a["managed"] / 2, rel=0.02)


@pytest.mark.parametrize("value,role", [("approved", "approved"), ("Managed", "managed"), ("实际管理", "managed"),
                                        ("托管范围", "managed"), ("规划范围", "approved"), (None, "approved"),
                                        ("", "approved"), ("buffer", None)])
def test_role_words(value, role):
    assert role_of(value) == role


def test_unknown_role_is_an_error(fc):
    with pytest.raises(Exception, match=r"feature 1.*use approved"):
        read_park(fc("p.geojson", [feature([RING], role="buffer")]))


def test_all_managed_is_an_error(fc):
    with pytest.raises(Exception, match="role=approved"):
        read_park(fc("p.geojson", [feature([RING], role="managed")]))


def test_geopackage_with_role_and_subpark_columns(tmp_path):
    f = tmp_path / "zone.gpkg"
    _gdf([
        {"Role": "approved", "SubPark": "A", "name": "甲园", "geometry": Polygon(square(120.60, 31.30))},
        {"Role": "approved", "SubPark": "B", "name": "乙园", "geometry": Polygon(square(120.68, 31.32))},
        {"Role": "managed", "SubPark": "A", "name": "甲园", "geometry": Polygon(square(120.60, 31.30, 0.05))},
    ]).to_file(f, driver="GPKG")
    park = read_park(f)
    assert park.metadata["format"] == "ogr"
    assert len(park.subparks) == 3 and park.managed is not None
    assert len(park.approved.geoms) == 2


def test_geopackage_layers_named_by_role(tmp_path):
    f = tmp_path / "layers.gpkg"
    _gdf([{"geometry": Polygon(RING)}]).to_file(f, layer="批复范围", driver="GPKG")
    _gdf([{"geometry": Polygon(square(120.60, 31.30, 0.05))}]).to_file(f, layer="托管范围", driver="GPKG")
    park = read_park(f)
    assert park.managed is not None
    assert park.area_ha()["managed"] > park.area_ha()["approved"]


def test_shapefile_in_utm_and_zipped(tmp_path):
    g = _gdf([{"名称": "测试园区", "role": "approved", "geometry": Polygon(RING)}]).to_crs(32651)
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    g.to_file(shp_dir / "park.shp", encoding="utf-8")
    p1 = read_park(shp_dir / "park.shp")
    zpath = tmp_path / "park.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, arcname=f"nested/{f.name}")
    p2 = read_park(zpath)
    for p in (p1, p2):
        assert p.name == "测试园区"
        assert p.approved.bounds == pytest.approx((120.60, 31.30, 120.63, 31.33), abs=1e-6)
    assert p2.metadata["format"] == "shapefile"
    assert read_park(shp_dir).name == "测试园区"  # a folder with one .shp


def test_shapefile_without_prj_in_lonlat_is_accepted(tmp_path):
    d = tmp_path / "noprj"
    d.mkdir()
    _gdf([{"geometry": Polygon(RING)}]).to_file(d / "p.shp")
    (d / "p.prj").unlink()
    assert read_park(d / "p.shp").area_ha()["approved"] == pytest.approx(950, rel=0.01)


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>苏州工业园区</name>
<Folder><name>批复范围</name>
 <Placemark><name>东区（一期）</name>
  <ExtendedData><Data name="子园区"><value>东区</value></Data></ExtendedData>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>
   120.60,31.30,0 120.63,31.30,0 120.63,31.33,0 120.60,31.33,0 120.60,31.30,0
  </coordinates></LinearRing></outerBoundaryIs>
  <innerBoundaryIs><LinearRing><coordinates>120.61,31.31 120.62,31.31 120.62,31.32 120.61,31.32 120.61,31.31</coordinates></LinearRing></innerBoundaryIs>
  </Polygon></Placemark>
 <Placemark><name>西区</name>
  <ExtendedData><SchemaData schemaUrl="#s"><SimpleData name="子园区">西区</SimpleData></SchemaData></ExtendedData>
  <MultiGeometry><Polygon><outerBoundaryIs><LinearRing><coordinates>120.50,31.30 120.52,31.30 120.52,31.32 120.50,31.32 120.50,31.30</coordinates></LinearRing></outerBoundaryIs></Polygon>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>120.53,31.30 120.54,31.30 120.54,31.31 120.53,31.31 120.53,31.30</coordinates></LinearRing></outerBoundaryIs></Polygon></MultiGeometry>
 </Placemark>
</Folder>
<Placemark><name>管委会</name><Point><coordinates>120.615,31.315,0</coordinates></Point></Placemark>
<Folder><name>托管范围</name>
 <Placemark><name>托管区</name><Polygon><outerBoundaryIs><LinearRing><coordinates>120.60,31.30 120.65,31.30 120.65,31.33 120.60,31.33 120.60,31.30</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
</Folder></Document></kml>
"""


def test_kml_with_chinese_names_folders_and_extended_data(tmp_path):
    f = tmp_path / "苏州.kml"
    f.write_text(KML, encoding="utf-8")
    park = read_park(f)
    assert park.metadata["format"] == "kml"
    assert park.name == "苏州工业园区"  # the Document name; the pin (管委会) is skipped
    assert "管委会" not in park.metadata["feature_names"]
    assert "东区（一期）" in park.metadata["feature_names"] and "西区" in park.metadata["feature_names"]
    assert park.managed is not None
    assert len(park.approved.geoms) == 3  # east (with a hole) + two west parts
    east = next(s for s in park.subparks if s.name == "东区")
    assert len(east.geometry.interiors) == 1
    # KMZ: the same KML zipped
    kmz = tmp_path / "苏州.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.writestr("doc.kml", KML)
    assert read_park(kmz).approved.equals(park.approved)


def test_wkt_single_multiline_and_named_lines(tmp_path):
    one = tmp_path / "a.wkt"
    one.write_text("POLYGON ((120.60 31.30, 120.63 31.30,\n 120.63 31.33, 120.60 31.33, 120.60 31.30))\n")
    assert read_park(one).area_ha()["approved"] == pytest.approx(950, rel=0.01)
    many = tmp_path / "b.txt"
    many.write_text("# two parts\n东区;POLYGON((120.60 31.30, 120.63 31.30, 120.63 31.33, 120.60 31.30))\n"
                    "西区\tSRID=4326;POLYGON((120.50 31.30, 120.52 31.30, 120.52 31.32, 120.50 31.30))\n",
                    encoding="utf-8")
    park = read_park(many)
    assert len(park.approved.geoms) == 2 and park.metadata["feature_names"] == ["东区", "西区"]


def test_projected_geojson_crs_is_reprojected(tmp_path):
    f = tmp_path / "utm.gpkg"
    _gdf([{"geometry": Polygon(RING)}]).to_crs(4547).to_file(f, driver="GPKG")  # CGCS2000 / 3-degree GK CM 120E
    park = read_park(f, crs_kind="gk3")
    assert park.crs.to_epsg() == 4549  # CGCS2000 3-degree GK zone of 120.6E (CM 120E)
    assert park.approved.bounds == pytest.approx((120.60, 31.30, 120.63, 31.33), abs=1e-6)


def test_gk3_crs_kind_is_passed(fc):
    park = read_park(fc("p.geojson", [feature([RING])]), crs_kind="gk3")
    assert park.crs_kind == "gk3" and park.crs.to_epsg() == 4549
    with pytest.raises(Exception, match="crs_kind"):
        read_park(fc("q.geojson", [feature([RING])]), crs_kind="lambert")


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_datum_conversion_of_boundaries(fc, datum):
    xy = np.array(RING)
    gx, gy = convert(xy[:, 0], xy[:, 1], "wgs84", datum)
    park = read_park(fc("g.geojson", [feature([np.column_stack([gx, gy]).tolist()])]), datum=datum)
    got = shapely.get_coordinates(park.approved)
    assert np.abs(got - xy).max() < 1e-8
    assert park.metadata["datum"] == datum


def test_self_intersection_is_repaired_with_warning(fc):
    from parkscan.aoi.errors import GeometryRepairedWarning

    bowtie = [[120.60, 31.30], [120.63, 31.33], [120.63, 31.30], [120.60, 31.33], [120.60, 31.30]]
    with pytest.warns(GeometryRepairedWarning, match=r"bowtie.geojson, feature 1 \(蝴蝶\).*Self-intersection"):
        park = read_park(fc("bowtie.geojson", [feature([bowtie], name="蝴蝶")]))
    assert park.approved.is_valid and park.approved.geom_type == "MultiPolygon"
    assert park.area_ha()["approved"] == pytest.approx(950 / 2, rel=0.02)


def test_park_geometry_helpers_work_on_read_parks(fc):
    park = read_park(fc("p.geojson", [feature([RING])]))
    g = park.grid(30)
    assert 90 < g.width < 110 and 100 < g.height < 120
    assert park.ring().area > 0
    assert box(*park.approved.bounds).equals(park.approved)


def test_gbk_shapefile_without_cpg(tmp_path):
    d = tmp_path / "gbk"
    d.mkdir()
    _gdf([{"名称": "苏州园区", "角色": "托管", "geometry": Polygon(square(120.60, 31.30, 0.05))},
          {"名称": "苏州园区", "角色": "批复", "geometry": Polygon(RING)}]).to_file(d / "p.shp", encoding="gbk")
    (d / "p.cpg").unlink(missing_ok=True)
    park = read_park(d / "p.shp")
    assert park.name == "苏州园区" and park.managed is not None
    z = tmp_path / "p.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in d.iterdir():
            zf.write(f, arcname=f.name)
    assert read_park(z).name == "苏州园区"


def test_type_column_that_is_not_a_role_is_ignored(fc):
    park = read_park(fc("osm.geojson", [feature([RING], type="multipolygon", landuse="industrial")]))
    assert park.managed is None
    p2 = read_park(fc("t.geojson", [feature([RING], 类型="批复"), feature([square(120.6, 31.3, 0.05)], 类型="托管")]))
    assert p2.managed is not None


def test_one_row_park_table_via_read_park(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("name,lon,lat,area_ha\n甲,120.6,31.3,100\n", encoding="utf-8")
    park = read_park(f, id="X")
    assert park.id == "X" and park.name == "甲" and park.metadata["approximate"]
    f.write_text("name,lon,lat,area_ha\n甲,120.6,31.3,100\n乙,120.7,31.3,100\n", encoding="utf-8")
    with pytest.raises(Exception, match="holds 2 parks"):
        read_park(f)


def test_geojson_saved_as_gbk(tmp_path):
    f = tmp_path / "gbk.geojson"
    fcj = {"type": "FeatureCollection", "features": [feature([RING], 名称="苏州园区", 角色="批复"),
                                                     feature([square(120.6, 31.3, 0.05)], 名称="苏州园区", 角色="托管")]}
    f.write_bytes(json.dumps(fcj, ensure_ascii=False).encode("gbk"))
    park = read_park(f)
    assert park.name == "苏州园区" and park.managed is not None


def test_wkt_in_utf16(tmp_path):
    f = tmp_path / "u16.wkt"
    f.write_bytes("东区;POLYGON((120.60 31.30, 120.63 31.30, 120.63 31.33, 120.60 31.30))".encode("utf-16"))
    assert read_park(f).metadata["feature_names"] == ["东区"]


def test_two_shapefiles_named_by_role_in_a_zip_and_a_folder(tmp_path):
    d = tmp_path / "shps"
    d.mkdir()
    _gdf([{"name": "园区", "geometry": Polygon(RING)}]).to_file(d / "批复范围.shp", encoding="utf-8")
    _gdf([{"name": "园区", "geometry": Polygon(square(120.60, 31.30, 0.05))}]).to_crs(32651).to_file(
        d / "托管范围.shp", encoding="gbk")
    (d / "托管范围.cpg").unlink(missing_ok=True)
    z = tmp_path / "园区.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in d.iterdir():
            zf.write(f, arcname=f"园区/{f.name}")
    for src in (d, z):
        park = read_park(src)
        assert park.name == "园区" and park.managed is not None
        assert park.area_ha()["managed"] > park.area_ha()["approved"] * 1.5
