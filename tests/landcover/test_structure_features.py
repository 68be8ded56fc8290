"""Line top-hats, ridges and the NDVI harmonic fit: what they detect, block-wise equality, dates, persistence, CLI."""
from __future__ import annotations

import doctest

import numpy as np
import pytest
from click.testing import CliRunner

from parkscan.aoi.errors import ModelError
from parkscan.models.landcover import features as fmod
from parkscan.models.landcover.features import FeatureSpec, harmonic_fit, line_tophats, ridges
from parkscan.models.landcover.model import load_model, train_model
from parkscan.models.landcover.predict import predict_cube_dask
from parkscan.models.landcover.training import edge_pixels

BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
VEG = np.array([0.03, 0.06, 0.04, 0.40, 0.20, 0.10], "float32")
ROAD = np.array([0.12, 0.13, 0.14, 0.20, 0.28, 0.24], "float32")


def test_examples_run_as_written():
    import parkscan.models.landcover.training as tmod

    for mod in (fmod, tmod):
        assert doctest.testmod(mod, optionflags=doctest.ELLIPSIS).failed == 0


def test_line_tophat_separates_a_road_from_a_roof():
    img = np.zeros((31, 31), "float32")
    img[:, 7] = 1.0  # a one-pixel road, vertical
    np.fill_diagonal(img, np.maximum(np.diag(img), 1.0))  # a diagonal road
    img[20:27, 10:17] = 1.0  # a 7×7 roof, shorter than the line
    thin, blob = line_tophats(img, (9,))
    assert thin[15, 7] == 1.0 and thin[5, 5] == 1.0  # both roads survive an opening along their own line
    assert thin[23, 13] <= 0.0  # the roof survives the 3×3 opening: not thin …
    assert blob[23, 13] == 1.0 and blob[15, 7] == 0.0  # … but a blob no 9-px line fits in
    spot = np.zeros((15, 15), "float32")
    spot[7, 7] = 1.0  # an isolated bright pixel is neither a line of 5 nor a blob
    t, b = line_tophats(spot, (5,))
    assert t[7, 7] == 0.0 and b[7, 7] == 1.0


def test_ridges_mark_the_crest_across_the_structure():
    img = np.zeros((7, 9))
    img[:, 4] = 1.0
    img[:, 5] = 0.6  # a two-pixel-wide road, brighter on the west
    r = ridges(img)
    assert r[0][3, 4] == pytest.approx(0.4)  # east-west: the crest pixel is above both neighbours
    assert r[0][3, 5] < 0  # its eastern neighbour is not a crest
    assert r[4][3, 4] == max(v[3, 4] for v in r[:4])


def test_harmonic_fit_recovers_the_seasonal_cycle_through_clouds():
    rng = np.random.default_rng(0)
    doy = np.sort(rng.uniform(0, 730, 40)) % 365
    t = 2 * np.pi * doy / 365.25
    truth = {"mean": 0.55, "c1": -0.25, "s1": 0.10}
    y = truth["mean"] + truth["c1"] * np.cos(t) + truth["s1"] * np.sin(t)
    series = np.repeat(y[:, None, None], 3, 1).repeat(4, 2) + rng.normal(0, 0.01, (40, 3, 4))
    series[rng.random(series.shape) < 0.4] = np.nan  # 40 % clouds
    series[:-3, 2, 3] = np.nan  # one pixel with only 3 clear dates
    out = harmonic_fit(series, doy, 1)
    mean, c1, s1, amp, rms = out
    assert mean[0, 0] == pytest.approx(0.55, abs=0.01)
    assert c1[1, 1] == pytest.approx(-0.25, abs=0.01) and s1[1, 1] == pytest.approx(0.10, abs=0.01)
    assert amp[0, 2] == pytest.approx(np.hypot(0.25, 0.10), abs=0.01)
    assert 0.003 < rms[0, 0] < 0.02
    assert rms[2, 3] == -1.0 and mean[2, 3] == 0.0  # too few dates: flagged, not a fitted zero


def _scene(n_dates=8, seed=0, size=(48, 60)):
    """A dated cube (time, band, y, x) with a vertical road, a roof and clouds; labels 1 built-up, 3 vegetation."""
    rng = np.random.default_rng(seed)
    H, W = size
    lab = np.full((H, W), 3, np.uint8)
    lab[:, 20] = 1
    lab[10:18, 40:50] = 1
    spec = np.where(lab[None] == 1, ROAD[:, None, None], VEG[:, None, None])
    doy = np.linspace(20, 340, n_dates).round()
    season = 1 + 0.4 * np.cos(2 * np.pi * (doy - 200) / 365.25)
    cube = np.stack([spec * (np.where(lab == 3, s, 1.0))[None] for s in season]).astype("float32")
    cube *= rng.normal(1, 0.03, cube.shape).astype("float32")
    cube[2, :, 5:12, :] = np.nan  # a cloud band on one date
    return cube, lab, doy


FULL = FeatureSpec(bands=BANDS, lines=(5, 9), ridges=True, harmonics=2, context=(3,),
                   index_stats=("median", "min", "max", "p10", "p90", "std"))


def test_names_match_the_computed_features_and_roundtrip():
    cube, _, doy = _scene()
    f = FULL.compute(cube, doy)
    assert f.shape == cube.shape[2:] + (len(FULL.names),)
    assert len(set(FULL.names)) == len(FULL.names)
    assert FeatureSpec.from_dict(FULL.to_dict()) == FULL
    old = {"bands": list(BANDS), "indices": ["NDVI"], "stats": ["median"], "index_stats": ["median"], "context": []}
    assert FeatureSpec.from_dict(old).lines == () and not FeatureSpec.from_dict(old).harmonics  # models saved before
    assert FULL.halo == 8 and FULL.min_dates == 7


def test_spec_refuses_what_it_cannot_compute():
    with pytest.raises(ValueError, match="B04 and B08"):
        FeatureSpec(bands=("B02", "B03", "B11"), indices=(), lines=(5,))
    with pytest.raises(ValueError, match=">= 3"):
        FeatureSpec(bands=BANDS, lines=(1,))
    cube, _, doy = _scene(n_dates=4)
    with pytest.raises(ValueError, match="at least 7 dated scenes"):
        FULL.compute(cube, doy)
    with pytest.raises(ValueError, match="day of year"):
        FULL.compute(cube)


def test_chunked_prediction_equals_whole_array_and_needs_dates(tmp_path):
    cube, lab, doy = _scene()
    model = train_model(FULL.compute(cube, doy), lab, FULL, estimator="et", seed=0)
    whole = model.predict_cube(cube, doy)
    assert (whole[lab == 1] == 1).mean() > 0.9 and (whole[lab == 3] == 3).mean() > 0.9
    for chunk in (16, 25):  # blocks smaller than the halo-dependent structures: the halo must make them equal
        got = predict_cube_dask(model, cube, chunk=chunk, doy=doy).compute()
        np.testing.assert_array_equal(got, whole)
    model.save(tmp_path / "m.joblib")
    back = load_model(tmp_path / "m.joblib")
    assert back.spec == FULL
    np.testing.assert_array_equal(back.predict_cube(cube, doy), whole)
    with pytest.raises(ModelError, match="harmonic fit"):
        back.predict_cube(cube[:3], doy[:3])
    with pytest.raises(ModelError, match="dated"):
        back.predict_cube(cube)


def test_soft_vote_estimator_trains_and_predicts():
    cube, lab, doy = _scene()
    spec = FeatureSpec(bands=BANDS, lines=(5,))
    m = train_model(spec.compute(cube), lab, spec, estimator="etgb", seed=0)
    got = m.predict_cube(cube)
    assert (got == lab).mean() > 0.95
    with pytest.raises(ModelError, match="rf, et or etgb"):
        train_model(spec.compute(cube), lab, spec, estimator="svm")


def test_edge_pixels_spare_rare_classes():
    lab = np.full((20, 20), 2)
    lab[:, 12] = 8  # a road: rare (5 %), all edge
    lab[0:10, 0:6] = 3  # grassland: 15 %, common
    e = edge_pixels(lab)
    assert not e[lab == 8].any()  # the road keeps every pixel
    assert e[3, 11] and e[3, 13]  # forest next to the road is an edge
    assert e[9, 5] and e[10, 5]  # both sides of the grass/forest border
    assert not e[15, 2] and not e[4, 2]
    assert not edge_pixels(np.zeros((4, 4), int)).any()


def test_cli_train_with_structure_features(tmp_path, scene_writer):
    import geopandas as gpd
    import rasterio
    from affine import Affine
    from shapely.geometry import box

    from parkscan.diagnostics.cli import cli

    H, W = 60, 80
    tr = Affine(10, 0, 500000, 0, -10, 3460000)
    cls = np.full((H, W), 3, np.uint8)
    cls[:, 30:32] = 1
    cls[40:55, 50:70] = 1
    (tmp_path / "img").mkdir()
    for i, day in enumerate(("01-15", "03-01", "04-15", "06-01", "07-15", "09-01", "10-15", "12-01")):
        scene_writer(tmp_path / "img" / f"S2_2023{day.replace('-', '')}.tif", cls, tr, "EPSG:32651", seed=i, date=f"2023-{day}")
    polys = [box(500000, 3459400, 500800, 3460000)]
    gpd.GeoDataFrame({"class": ["vegetation"]}, geometry=polys, crs="EPSG:32651").to_file(tmp_path / "veg.gpkg")
    ref = np.where(cls == 1, 50, 10).astype(np.uint8)  # WorldCover codes: 50 built-up, 10 tree cover
    with rasterio.open(tmp_path / "ref.tif", "w", driver="GTiff", height=H, width=W, count=1, dtype="uint8",
                       crs="EPSG:32651", transform=tr) as dst:
        dst.write(ref, 1)
    r = CliRunner().invoke(cli, ["landcover", "train", str(tmp_path / "img"), "--reference", str(tmp_path / "ref.tif"),
                                 "--lines", "--ridges", "--harmonics", "1", "--drop-edges", "--estimator", "et",
                                 "--block-px", "20", "--out", str(tmp_path / "m.joblib")])
    assert r.exit_code == 0, r.output
    m = load_model(tmp_path / "m.joblib")
    assert m.spec.harmonics == 1 and m.spec.lines == (5, 9, 15) and m.spec.ridges
    assert m.meta["drop_edges"] and m.meta["estimator"] == "et"
    assert "blocked CV: OA" in r.output
    r = CliRunner().invoke(cli, ["landcover", "predict", str(tmp_path / "img"), "--model", str(tmp_path / "m.joblib"),
                                 "--period", "2023-01-01/2023-03-31", "--out", str(tmp_path / "p.tif")])
    assert r.exit_code != 0 and "harmonic fit" in r.output  # two scenes cannot feed a harmonic fit: said, not crashed
    r = CliRunner().invoke(cli, ["landcover", "predict", str(tmp_path / "img"), "--model", str(tmp_path / "m.joblib"),
                                 "--out", str(tmp_path / "p.tif"), "--chunk", "32"])
    assert r.exit_code == 0, r.output
    with rasterio.open(tmp_path / "p.tif") as src:
        got = src.read(1)
    assert (got[cls == 1] == 1).mean() > 0.9 and (got[cls == 3] != 1).mean() > 0.95


def test_edges_are_found_before_subsampling():
    """Subsampling a large class leaves unlabelled holes; they must not turn its interior into "edges"."""
    import rioxarray  # noqa: F401  (the .rio accessor)
    import xarray as xr
    from affine import Affine

    from parkscan.models.landcover.training import train_from_dataset

    lab = np.full((60, 60), 3, np.uint8)
    lab[:, 30] = 1  # a road
    cube = np.where(lab[None, None] == 1, ROAD[None, :, None, None], VEG[None, :, None, None]).astype("float32")
    cube = cube * np.random.default_rng(0).normal(1, 0.03, cube.shape).astype("float32")
    ds = xr.Dataset({b: (("time", "y", "x"), cube[:, i]) for i, b in enumerate(BANDS)},
                    coords={"time": [np.datetime64("2023-06-01")], "y": 3460000 - 10 * np.arange(60) - 5,
                            "x": 500000 + 10 * np.arange(60) + 5})
    ds = ds.rio.write_crs("EPSG:32651").rio.write_transform(Affine(10, 0, 500000, 0, -10, 3460000))
    m = train_from_dataset(ds, lab, spec=FeatureSpec(bands=BANDS), max_per_class=500, drop_edges=True, block_px=20)
    # 500 sampled vegetation pixels minus the ~4 % beside the road, plus all 60 road pixels; looking for edges after
    # the subsampling would have called almost every sampled pixel an edge (it touches a hole)
    assert m.meta["train_counts"]["built_up"] == 60
    assert 440 < m.meta["train_counts"]["vegetation"] <= 500
