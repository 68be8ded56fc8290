"""Learned thinning of two-pixel runs: the rule, block-wise equality, persistence, and training with --thin."""
from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from parkscan.models.landcover.features import FeatureSpec
from parkscan.models.landcover.model import load_model, train_model
from parkscan.models.landcover.predict import predict_cube_dask, predict_features_dask
from parkscan.models.landcover.thinning import apply_thinning, learn_thinning, run_ends

from .test_structure_features import BANDS, ROAD, VEG


def _roads(H=40, W=60, cols=(8, 24, 40), *, label_side=0):
    """Roads two pixels wide in the imagery (cols c, c+1); labelled on one pixel (c + label_side)."""
    img = np.full((H, W), 3, np.uint8)
    lab = np.full((H, W), 3, np.uint8)
    for c in cols:
        img[:, c:c + 2] = 1
        lab[:, c + label_side] = 1
    return img, lab


def test_rule_learns_the_side_the_labels_use():
    img, lab = _roads()
    assert learn_thinning(img, lab, classes=[1]) == {1: ["east"]}
    img, lab = _roads(label_side=1)
    assert learn_thinning(img, lab, classes=[1]) == {1: ["west"]}
    # labels on both pixels: nothing to learn; on alternating sides: no side is wrong often enough
    img, _ = _roads()
    assert learn_thinning(img, img, classes=[1]) == {}
    alt = np.full_like(img, 3)
    alt[::2, 8], alt[1::2, 9], alt[::2, 24], alt[1::2, 25], alt[::2, 40], alt[1::2, 41] = 1, 1, 1, 1, 1, 1
    assert learn_thinning(img, alt, classes=[1]) == {}
    # too few cases: nothing learned
    assert learn_thinning(img[:3], lab[:3], classes=[1]) == {}
    # where= restricts the evidence
    assert learn_thinning(img, lab, classes=[1], where=np.zeros_like(img, bool)) == {}


def test_apply_drops_run_ends_to_the_next_class():
    img, lab = _roads()
    classes = np.array([1, 3], np.uint8)
    P = np.zeros(img.shape + (2,), np.float32)
    P[..., 0] = np.where(img == 1, 0.7, 0.1)
    P[..., 1] = 1 - P[..., 0]
    out = apply_thinning(P, classes, {1: ["east"]})
    np.testing.assert_array_equal(out, lab)
    assert run_ends(img == 1, "east").sum() == 3 * img.shape[0]
    valid = np.ones(img.shape, bool)
    valid[:, :5] = False
    assert (apply_thinning(P, classes, {1: ["east"]}, valid=valid)[:, :5] == 0).all()


def _cube(img, n_dates=3, seed=0):
    rng = np.random.default_rng(seed)
    spec = np.where(img[None] == 1, ROAD[:, None, None], VEG[:, None, None])
    return np.stack([spec * rng.normal(1, 0.03, spec.shape) for _ in range(n_dates)]).astype("float32")


def test_thinned_model_is_equal_block_wise_and_survives_save(tmp_path):
    img, lab = _roads(H=50, W=70, cols=(5, 20, 33, 60))
    cube = _cube(img)
    spec = FeatureSpec(bands=BANDS, context=(3,))
    m = train_model(spec.compute(cube), img, spec, estimator="et", seed=0)
    wide = m.predict_cube(cube)
    assert (wide[img == 1] == 1).mean() > 0.95
    m.thinning = {1: ["east"]}
    whole = m.predict_cube(cube)
    assert (whole == 1).sum() < 0.6 * (wide == 1).sum()
    assert ((whole == 1) == (lab == 1)).mean() > 0.98
    for chunk in (16, 23, 34):  # block edges cut roads and fall on run ends
        np.testing.assert_array_equal(predict_cube_dask(m, cube, chunk=chunk).compute(), whole)
        np.testing.assert_array_equal(predict_features_dask(m, spec.compute(cube), chunk=chunk).compute(), whole)
    m.save(tmp_path / "m.joblib")
    back = load_model(tmp_path / "m.joblib")
    assert back.thinning == {1: ["east"]} and back.halo == spec.halo + 2
    np.testing.assert_array_equal(back.predict_cube(cube), whole)


def test_train_with_thin_learns_the_convention_and_reports_cross_fitted_cv(tmp_path, scene_writer):
    import rasterio
    from affine import Affine

    from parkscan.diagnostics.cli import cli

    H, W = 60, 100
    tr = Affine(10, 0, 500000, 0, -10, 3460000)
    img, lab = _roads(H=H, W=W, cols=tuple(range(4, 96, 16)))
    (tmp_path / "img").mkdir()
    scene_writer(tmp_path / "img" / "S2_20230601.tif", img, tr, "EPSG:32651", seed=1, date="2023-06-01")
    ref = np.where(lab == 1, 50, 10).astype(np.uint8)  # WorldCover: 50 built-up, 10 trees
    with rasterio.open(tmp_path / "ref.tif", "w", driver="GTiff", height=H, width=W, count=1, dtype="uint8",
                       crs="EPSG:32651", transform=tr) as dst:
        dst.write(ref, 1)
    runner = CliRunner()
    base = ["landcover", "train", str(tmp_path / "img"), "--reference", str(tmp_path / "ref.tif"), "--block-px", "25",
            "--estimator", "et", "--drop-edges"]
    r0 = runner.invoke(cli, base + ["--out", str(tmp_path / "plain.joblib")])
    r1 = runner.invoke(cli, base + ["--thin", "--out", str(tmp_path / "thin.joblib")])
    assert r0.exit_code == 0 and r1.exit_code == 0, r0.output + r1.output
    assert "built_up: drop the east end" in r1.output
    plain, thin = load_model(tmp_path / "plain.joblib"), load_model(tmp_path / "thin.joblib")
    assert thin.thinning == {1: ["east"]} and plain.thinning is None
    f1 = lambda m: m.meta["cv"]["per_class"]["built_up"]["f1"]  # noqa: E731
    assert f1(plain) < 0.75 and f1(thin) > 0.9  # the labels mark one of the two road pixels
    r = runner.invoke(cli, ["landcover", "predict", str(tmp_path / "img"), "--model", str(tmp_path / "thin.joblib"),
                            "--out", str(tmp_path / "p.tif"), "--chunk", "32"])
    assert r.exit_code == 0, r.output
    with rasterio.open(tmp_path / "p.tif") as src:
        got = src.read(1)
    assert ((got == 1) == (lab == 1)).mean() > 0.98
