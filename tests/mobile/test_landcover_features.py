"""Land-cover class fractions within buffers for the LUR: exact on hand-made rasters, any CRS, CLI option."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin

from parkscan.aoi.errors import ModelError, SourceIOError
from parkscan.diagnostics.cli import cli
from parkscan.models.mobile import analyse
from parkscan.models.mobile.landcover_features import disc_kernel, landcover_fractions, segment_landcover
from parkscan.models.mobile.ml import lur_cv, lur_dataset
from parkscan.sources.mobile import read_mobile

from .conftest import ENTERPRISES, LAT0, LON0, M_LAT, M_LON, loop_track

pytestmark = pytest.mark.filterwarnings("ignore::parkscan.aoi.errors.DataQualityWarning")

UTM = "EPSG:32651"


def _write(path, arr, crs, transform, nodata=None, tags=None):
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1, dtype=arr.dtype,
                       crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(arr, 1)
        if tags:
            dst.update_tags(**tags)
    return path


@pytest.fixture()
def half_utm(tmp_path):
    """100 × 100 px at 10 m in UTM 51N: west half code 1 (built-up), east half code 3 (vegetation), no nodata."""
    arr = np.full((100, 100), 3, np.uint8)
    arr[:, :50] = 1
    x0, y1 = 300_000.0, 3_500_000.0
    return _write(tmp_path / "half.tif", arr, UTM, from_origin(x0, y1, 10, 10)), x0 + 500.0, y1 - 500.0


def test_disc_kernel():
    k = disc_kernel(2.0)
    assert k.shape == (5, 5) and k.sum() == 13 and k[2, 2] == 1 and k[0, 0] == 0


def test_half_built_up_is_half_at_the_boundary(half_utm):
    path, xb, yc = half_utm
    df = landcover_fractions(path, UTM, [xb, xb - 200, xb + 200, xb - 150], [yc, yc, yc, yc], buffers_m=(100, 300))
    # no CLASSES tag and codes within 1..5: the park class names
    assert set(df.columns) == {"f_lc_built_up_100m", "f_lc_vegetation_100m", "f_lc_built_up_300m", "f_lc_vegetation_300m"}
    assert df["f_lc_built_up_100m"].iloc[0] == pytest.approx(0.5, abs=1e-6)
    assert df["f_lc_built_up_300m"].iloc[0] == pytest.approx(0.5, abs=1e-6)
    assert df["f_lc_built_up_100m"].iloc[1] == pytest.approx(1.0) and df["f_lc_built_up_100m"].iloc[2] == pytest.approx(0.0)
    np.testing.assert_allclose(df["f_lc_built_up_100m"] + df["f_lc_vegetation_100m"], 1.0, atol=1e-6)
    # 150 m west of the edge, 300 m disc: the east part is a circular segment of 19.55 % of the disc
    r, d = 300.0, 150.0
    seg = (r**2 * np.arccos(d / r) - d * np.sqrt(r**2 - d**2)) / (np.pi * r**2)
    assert df["f_lc_built_up_300m"].iloc[3] == pytest.approx(1 - seg, abs=0.01)


def test_outside_or_partly_covered_is_nan_and_nodata_is_not_a_class(tmp_path):
    arr = np.full((60, 60), 1, np.uint8)
    arr[:, 30:] = 0  # nodata east half
    path = _write(tmp_path / "nd.tif", arr, UTM, from_origin(0, 600, 10, 10), nodata=0)
    df = landcover_fractions(path, UTM, [150.0, 290.0, 450.0, 5000.0], [300.0, 300.0, 300.0, 300.0], buffers_m=(100,))
    assert list(df.columns) == ["f_lc_built_up_100m"]
    v = df["f_lc_built_up_100m"].to_numpy()
    assert v[0] == pytest.approx(1.0) and v[1] == pytest.approx(1.0)  # fraction among pixels with data
    assert np.isnan(v[2]) and np.isnan(v[3])  # < half the buffer has data; outside the raster


def test_crs_alignment_geographic_raster_in_utm(tmp_path):
    """A WGS-84 raster (0.0001° pixels) queried in UTM: the class boundary at lon 120.6 is found where it should be."""
    arr = np.full((200, 200), 3, np.uint8)
    arr[:, :100] = 1  # west of 120.6 built-up
    path = _write(tmp_path / "geo.tif", arr, "EPSG:4326", from_origin(120.59, 31.31, 0.0001, 0.0001),
                  tags={"CLASSES": json.dumps({"1": "Built", "3": "Cropland"})})
    tr = pyproj.Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
    x, y = tr.transform([120.6, 120.597, 120.603], [31.30, 31.30, 31.30])
    df = landcover_fractions(path, UTM, x, y, buffers_m=(100,))
    assert set(df.columns) == {"f_lc_built_100m", "f_lc_cropland_100m"}  # names from the CLASSES tag
    assert df["f_lc_built_100m"].iloc[0] == pytest.approx(0.5, abs=0.05)
    assert df["f_lc_built_100m"].iloc[1] == pytest.approx(1.0) and df["f_lc_built_100m"].iloc[2] == pytest.approx(0.0)
    # an explicit mapping wins and leaves unnamed codes out
    df2 = landcover_fractions(path, UTM, x, y, buffers_m=(100,), classes={1: "industrial land"})
    assert list(df2.columns) == ["f_lc_industrial_land_100m"]


def test_errors(tmp_path, half_utm):
    bad = tmp_path / "bad.tif"
    bad.write_text("not a raster")
    with pytest.raises(SourceIOError, match="bad.tif"):
        landcover_fractions(bad, UTM, [0.0], [0.0])
    path, xb, yc = half_utm
    with pytest.raises(ModelError, match="no data"):
        landcover_fractions(path, UTM, [xb + 1e5], [yc])
    with pytest.raises(ModelError, match="positive"):
        landcover_fractions(path, UTM, [xb], [yc], buffers_m=(0,))


def _track_raster(tmp_path):
    """WGS-84 raster over the conftest loop track: built-up south of the road (where the sources are), vegetation (park code 3) north."""
    res = 0.0001
    west, north = LON0 - 0.005, LAT0 + 0.008
    arr = np.full((160, 200), 3, np.uint8)
    lat = north - (np.arange(160) + 0.5) * res
    arr[lat < LAT0 + 100 / M_LAT, :] = 1
    return _write(tmp_path / "lc.tif", arr, "EPSG:4326", from_origin(west, north, res, res), nodata=0)


def test_lur_with_landcover_is_measured_against_without(tmp_path):
    files = []
    for i, day in enumerate(["2025-06-10", "2025-06-11"]):
        p = tmp_path / f"d{i}.csv"
        loop_track(2, seed=i, start=f"{day} 09:00:00").to_csv(p, index=False)
        files.append(p)
    a = analyse(read_mobile(files), enterprises=ENTERPRISES, lag=None)
    lc = segment_landcover(a, _track_raster(tmp_path))
    assert len(lc) == len(a.segments.table) and lc.notna().all().all()
    # the south side of the rectangle (y ≈ 0) lies in built-up land, the north side (y ≈ 400) in vegetation
    south = a.segments.table["y"].to_numpy() < a.segments.table["y"].min() + 50
    assert lc.loc[south, "f_lc_built_up_100m"].mean() > 0.6 and lc.loc[~south, "f_lc_built_up_100m"].min() < 0.2
    d = lur_dataset(a, ENTERPRISES, "tvoc", landcover=lc)
    assert {"f_lc_built_up_100m", "f_lc_vegetation_300m"} <= set(d.columns)
    cv = lur_cv(d)
    assert {"gbm", "rf", "gbm+lc", "rf+lc", "idw", "mean"} == set(cv["model"])
    assert cv.groupby("scheme")["n_test"].nunique().eq(1).all()  # same rows for every model
    # a raster path gives the same features as the precomputed table
    d2 = lur_dataset(a, ENTERPRISES, "tvoc", landcover=tmp_path / "lc.tif")
    pd.testing.assert_frame_equal(d, d2)


def test_cli_landcover_option(tmp_path, enterprises_csv):
    files = []
    for i, day in enumerate(["2025-06-10", "2025-06-11"]):
        p = tmp_path / f"d{i}.csv"
        loop_track(2, seed=i, start=f"{day} 09:00:00").to_csv(p, index=False)
        files.append(str(p))
    raster = str(_track_raster(tmp_path))
    r = CliRunner().invoke(cli, ["mobile", *files, "--out", str(tmp_path / "o0"), "--landcover", raster])
    assert r.exit_code == 2 and "--ml" in r.output
    out = tmp_path / "o1"
    r = CliRunner().invoke(cli, ["mobile", *files, "--out", str(out), "--enterprises", str(enterprises_csv), "--ml", "--landcover", raster])
    assert r.exit_code == 0, r.output
    cv = pd.read_csv(out / "lur_cv.csv", encoding="utf-8-sig")
    assert {"rf+lc", "gbm+lc", "rf", "idw"} <= set(cv["model"])
    notes = json.loads((out / "summary.json").read_text())["ml"]["notes"]
    assert notes["lur_landcover"]["segments_covered"] == notes["lur_landcover"]["segments"] > 0
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"\x00" * 100)
    r = CliRunner().invoke(cli, ["mobile", *files, "--out", str(tmp_path / "o2"), "--enterprises", str(enterprises_csv), "--ml", "--landcover", str(bad)])
    assert r.exit_code == 1 and "bad.tif" in r.output and "Traceback" not in r.output


def test_lur_cv_credits_landcover_when_the_concentration_follows_it():
    """Where the concentration follows land cover (e.g. traffic or area sources), the +lc models must win."""
    rng = np.random.default_rng(3)
    n = 360
    x, y = rng.uniform(0, 3000, n), rng.uniform(0, 3000, n)
    built = rng.uniform(0, 1, n)  # patchy land cover, not a smooth function of position
    d = pd.DataFrame({"segment": np.arange(n), "day": np.repeat(["d1", "d2", "d3"], n // 3), "x": x, "y_m": y,
                      "f_dist_any": rng.uniform(4, 8, n), "f_lc_built_up_100m": built,
                      "y": np.expm1(1.0 + 2.0 * built + rng.normal(0, 0.1, n))})
    cv = lur_cv(d).set_index(["scheme", "model"])["r2"]
    for scheme in ("leave-one-day-out", "spatial-blocks"):
        assert cv[(scheme, "rf+lc")] > 0.8 > cv[(scheme, "rf")] + 0.5
        assert cv[(scheme, "gbm+lc")] > cv[(scheme, "idw")] + 0.5


def test_plugin_takes_landcover_from_ctx_params(tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    from parkscan.aoi import Park
    from parkscan.diagnostics.mobile import run
    from parkscan.diagnostics.registry import ScreenContext

    files = []
    for i, day in enumerate(["2025-06-10", "2025-06-11"]):
        p = tmp_path / f"d{i}.csv"
        loop_track(2, seed=i, start=f"{day} 09:00:00").to_csv(p, index=False)
        files.append(p)
    ent = gpd.GeoDataFrame(ENTERPRISES.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(ENTERPRISES["lon"], ENTERPRISES["lat"]), crs=4326)
    park = Park(id="P", name="测试园区", approved=box(120.595, 31.295, 120.615, 31.31), enterprises=ent)
    ctx = ScreenContext(params={"mobile": {"ml": True, "landcover": str(_track_raster(tmp_path))}})
    res = run(park, ctx, mobile=files, mobile_datum="wgs84", wind=None)
    assert {"rf+lc", "gbm+lc"} <= set(res.tables["lur_cv"]["model"])
    assert res.indicators["mobile_ml_notes"]["lur_landcover"]["segments_covered"] > 0
