"""Blocked CV folds, confusion metrics, and the Olofsson et al. (2014) estimators against the published example."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkscan.aoi.errors import ModelError
from parkscan.models.landcover.accuracy import accuracy_report, block_folds
from parkscan.models.landcover.olofsson import Z95, allocate, estimate, sample_size, stratified_sample

# Olofsson et al. (2014), Remote Sensing of Environment 148:42-57, section 5 / Table 8:
# strata deforestation, forest gain, stable forest, stable non-forest (30 m pixels); rows = map, columns = reference.
OLOFSSON_COUNTS = [[66, 0, 5, 4], [0, 55, 8, 12], [1, 0, 153, 11], [2, 1, 9, 313]]
OLOFSSON_PIXELS = np.array([200_000, 150_000, 3_200_000, 6_450_000])


def test_olofsson_2014_worked_example_areas_and_ci():
    r = estimate(OLOFSSON_COUNTS, OLOFSSON_PIXELS * 0.09)  # ha
    # published: deforestation 21,158 ± 6,158 ha; gain 11,686 ± 3,756; stable forest 285,770 ± 15,510;
    # stable non-forest 581,386 ± 16,281 ha
    np.testing.assert_allclose(r.area, [21157.76, 11686.15, 285769.9, 581386.2], atol=1.0)
    np.testing.assert_allclose(r.area_ci95, [6157.52, 3755.76, 15509.55, 16281.36], atol=0.5)
    assert r.area.sum() == pytest.approx(OLOFSSON_PIXELS.sum() * 0.09)
    # accuracies: UA 0.88, 0.73, 0.93, 0.96; PA 0.75, 0.85, 0.93, 0.96; OA 0.95 ± 0.02
    np.testing.assert_allclose(r.users, [0.88, 0.7333333, 0.9272727, 0.9630769], atol=1e-6)
    np.testing.assert_allclose(r.producers, [0.7486614, 0.8471564, 0.9345089, 0.9616090], atol=1e-6)
    np.testing.assert_allclose(Z95 * r.producers_se, [0.2133059, 0.2544037, 0.0343238, 0.0183612], atol=1e-6)
    np.testing.assert_allclose(Z95 * r.users_se, [0.0740396, 0.1007552, 0.0397446, 0.0205331], atol=1e-6)
    assert r.overall == pytest.approx(0.9465119, abs=1e-6)
    assert Z95 * r.overall_se == pytest.approx(0.0184833, abs=1e-6)
    # the error matrix in area proportions: rows sum to the stratum weights
    np.testing.assert_allclose(r.proportions.sum(1), OLOFSSON_PIXELS / OLOFSSON_PIXELS.sum())


def test_olofsson_sample_design():
    # eq. 13 with the paper's expected user's accuracies and SE(OA) = 0.01 gives n = 641
    W = OLOFSSON_PIXELS / OLOFSSON_PIXELS.sum()
    n = sample_size(W, [0.7, 0.6, 0.9, 0.95], target_se=0.01)
    assert n == 641
    a = allocate(n, W, min_per_stratum=75)
    assert a.sum() == 641 and a[0] == 75 and a[1] == 75 and a[3] > a[2] > 75


def test_estimate_rejects_unsampled_stratum():
    with pytest.raises(ModelError, match="no sample points"):
        estimate([[5, 0], [0, 0]], [10.0, 5.0])


def test_stratified_sample_respects_allocation():
    m = np.zeros((50, 60), np.uint8)
    m[:10] = 1
    m[10:] = 3
    m[0, 0] = 0
    rows, cols = stratified_sample(m, {1: 20, 3: 30, 4: 5}, seed=3)
    got = m[rows, cols]
    assert (got == 1).sum() == 20 and (got == 3).sum() == 30 and not (got == 0).any()
    assert len(set(zip(rows.tolist(), cols.tolist()))) == 50  # without replacement


@settings(max_examples=30, deadline=None)
@given(st.integers(10, 120), st.integers(10, 120), st.integers(2, 6), st.integers(2, 20))
def test_blocked_folds_are_spatially_disjoint(rows, cols, k, block):
    for f in (block_folds((rows, cols), n_folds=k), block_folds((rows, cols), n_folds=k, block=block, seed=1)):
        assert f.shape == (rows, cols) and f.min() >= 0 and f.max() < k
    # stripes: each fold is a set of whole columns, folds do not share a column
    f = block_folds((rows, cols), n_folds=k)
    col_sets = [set(np.flatnonzero((f == i).any(0))) for i in range(k)]
    for i in range(k):
        for j in range(i + 1, k):
            assert not col_sets[i] & col_sets[j]
    # tiles: every block of block×block pixels belongs to one fold only
    t = block_folds((rows, cols), n_folds=k, block=block, seed=1)
    for r0 in range(0, rows, block):
        for c0 in range(0, cols, block):
            assert len(np.unique(t[r0:r0 + block, c0:c0 + block])) == 1


def test_eolearn_stripes_match_the_benchmark():
    f = block_folds((101, 100), n_folds=4)
    assert [int(f[0, c]) for c in (0, 24, 25, 49, 50, 74, 75, 99)] == [0, 0, 1, 1, 2, 2, 3, 3]


def test_accuracy_report_matches_sklearn():
    from sklearn.metrics import cohen_kappa_score, f1_score, precision_score, recall_score

    rng = np.random.default_rng(0)
    ref = rng.integers(1, 5, 500)
    pred = np.where(rng.random(500) < 0.7, ref, rng.integers(1, 5, 500))
    r = accuracy_report(ref, pred)
    assert r.oa == pytest.approx((ref == pred).mean())
    assert r.kappa == pytest.approx(cohen_kappa_score(ref, pred))
    np.testing.assert_allclose(r.f1, f1_score(ref, pred, average=None))
    np.testing.assert_allclose(r.precision, precision_score(ref, pred, average=None))
    np.testing.assert_allclose(r.recall, recall_score(ref, pred, average=None))
    assert r.matrix.sum() == 500 and r.support.tolist() == np.bincount(ref)[1:].tolist()


def test_class_schema_mapping():
    from parkscan.models.landcover.classes import class_code, map_classes

    assert map_classes(np.array([[50, 40], [80, 60]]), "worldcover").tolist() == [[1, 2], [4, 5]]
    assert map_classes(np.array([0, 1, 2, 3, 4, 8]), "eolearn").tolist() == [0, 2, 3, 3, 3, 1]
    assert map_classes(np.array(["Industrial", "耕地", "forest", "lake?"]), {}).tolist() == [1, 2, 3, 0]
    assert class_code("bare soil") == 5 and class_code("3") == 3
    with pytest.raises(ModelError, match="unknown land-cover class 'lava'"):
        class_code("lava")
    with pytest.raises(ModelError, match="unknown class schema"):
        map_classes(np.array([1]), "corine")


def test_cli_user_errors_are_one_line(tmp_path):
    from click.testing import CliRunner

    from parkscan.diagnostics.cli import cli

    r = CliRunner().invoke(cli, ["landcover", "predict", str(tmp_path / "missing"), "--out", str(tmp_path / "m.tif")])
    assert r.exit_code == 1 and "no such imagery file or folder" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["landcover", "predict", str(tmp_path), "--model", str(tmp_path / "nope.joblib"), "--out", "x"])
    assert r.exit_code == 2  # click: the model path does not exist
