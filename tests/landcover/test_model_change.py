"""Model persistence and version check, dask prediction = in-memory prediction, change polygons with an MMU."""
from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from parkscan.aoi.errors import ModelError
from parkscan.models.landcover.change import apply_mmu, change_polygons, detect_change, otsu_threshold
from parkscan.models.landcover.features import FeatureSpec
from parkscan.models.landcover.model import FORMAT_VERSION, load_model, train_model
from parkscan.models.landcover.predict import predict_cube_dask, predict_features_dask


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    cube = rng.uniform(0.01, 0.4, (2, 6, 60, 53)).astype("float32")
    cube[:, 3, :, 30:] += 0.3  # a "vegetated" half: NIR up
    cube[0, :, 10:14, 10:14] = np.nan  # a cloud on one date
    spec = FeatureSpec(context=(3, 5))
    f = spec.compute(cube)
    labels = np.where(f[..., spec.names.index("NDVI_median")] > 0.3, 3, 1).astype(np.uint8)
    return train_model(f, labels, spec, seed=0), cube


def test_dask_prediction_equals_in_memory(fitted):
    model, cube = fitted
    whole = model.predict_cube(cube)
    assert set(np.unique(whole)) <= {1, 3}
    for chunk in (16, 33):
        lazy = predict_cube_dask(model, cube, chunk=chunk)
        assert max(lazy.chunks[0]) <= chunk and len(lazy.chunks[0]) == -(-cube.shape[2] // chunk)  # balanced blocks
        assert max(lazy.chunks[0]) - min(lazy.chunks[0]) <= 1
        np.testing.assert_array_equal(lazy.compute(scheduler="threads"), whole)
    feats = model.spec.compute(cube)
    np.testing.assert_array_equal(predict_features_dask(model, feats, chunk=20).compute(), whole)


def test_model_enters_the_graph_once(fitted):
    model, cube = fitted
    graph = dict(predict_cube_dask(model, cube, chunk=16).__dask_graph__())
    holders = [k for k, v in graph.items() if v is model or getattr(v, "value", None) is model]
    assert len(holders) == 1


def test_save_load_roundtrip_and_version_check(fitted, tmp_path):
    import joblib

    model, cube = fitted
    p = model.save(tmp_path / "m.joblib")
    again = load_model(p)
    np.testing.assert_array_equal(again.predict_cube(cube), model.predict_cube(cube))
    assert again.spec == model.spec
    payload = joblib.load(p)
    payload["format_version"] = FORMAT_VERSION + 1
    joblib.dump(payload, tmp_path / "newer.joblib")
    with pytest.raises(ModelError, match="format version .* retrain"):
        load_model(tmp_path / "newer.joblib")
    payload["format_version"] = FORMAT_VERSION
    payload["sklearn"] = "0.24.2"
    joblib.dump(payload, tmp_path / "old.joblib")
    with pytest.raises(ModelError, match="scikit-learn 0.24.2"):
        load_model(tmp_path / "old.joblib")
    (tmp_path / "junk.joblib").write_bytes(b"not a model")
    with pytest.raises(ModelError):
        load_model(tmp_path / "junk.joblib")
    with pytest.raises(ModelError, match="no such model"):
        load_model(tmp_path / "missing.joblib")


def test_train_needs_two_classes():
    with pytest.raises(ModelError, match="two classes"):
        train_model(np.ones((10, 10, 3), "f4"), np.ones((10, 10), np.uint8), FeatureSpec())


def test_otsu_splits_bimodal():
    rng = np.random.default_rng(0)
    v = np.r_[rng.normal(0.02, 0.02, 5000), rng.normal(0.5, 0.05, 300)]
    t = otsu_threshold(v)
    assert (v[5000:] > t).all() and (v[:5000] > t).mean() < 0.01


def test_change_polygons_with_mmu():
    t = Affine(10, 0, 300000, 0, -10, 3460000)
    before = np.full((60, 60), 3, np.uint8)
    after = before.copy()
    after[10:20, 10:25] = 1  # 150 px = 1.5 ha → kept
    after[40:42, 40:42] = 1  # 4 px = 0.04 ha → below MMU
    after[30:40, 45:55] = 5  # 100 px = 1.0 ha vegetation → bare soil
    nd_b = np.full(before.shape, 0.75, "f4")
    nd_a = np.where(after == 3, 0.75, 0.1).astype("f4")
    nd_a[45:50, 0:5] = 0.70  # noise-level difference must not count as change
    res = detect_change(before, after, {"NDVI": nd_b}, {"NDVI": nd_a}, t, "EPSG:32651", mmu_ha=0.5)
    assert res.mmu_pixels == 50
    g = res.polygons
    assert len(g) == 2
    row = g[g["to"] == "built_up"].iloc[0]
    assert row["from"] == "vegetation" and row["area_ha"] == pytest.approx(1.5)
    assert row.geometry.area / 1e4 == pytest.approx(1.5)  # the polygon is the pixel outline
    assert row["dNDVI"] == pytest.approx(-0.65, abs=1e-5)
    assert g[g["to"] == "bare_soil"].iloc[0]["area_ha"] == pytest.approx(1.0)
    assert res.pcc[40, 40] == 31 and res.codes[40, 40] == 0  # removed by the MMU


def test_apply_mmu_keeps_diagonal_connected_patch():
    c = np.zeros((5, 5), np.int16)
    c[0, 0] = c[1, 1] = c[2, 2] = 13
    assert (apply_mmu(c, 3) == c).all()
    assert not apply_mmu(c, 4).any()


def test_change_polygons_empty():
    g = change_polygons(np.zeros((4, 4), np.int16), Affine(10, 0, 0, 0, -10, 0), "EPSG:32651")
    assert len(g) == 0 and "area_ha" in g.columns
