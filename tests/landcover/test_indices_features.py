"""Spectral indices and features on real Sentinel-2 reflectance (Slovenia, eo-learn example data)."""
from __future__ import annotations

import numpy as np
import pytest

from parkscan.models.landcover.features import FeatureSpec
from parkscan.models.landcover.indices import bsi, compute_indices, mndwi, ndbi, ndvi, normalized_difference

S2_13 = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12")


@pytest.fixture(scope="module")
def real(eolearn):
    x = np.load(eolearn / "REFERENCE_SCENES.npy")  # (5, 101, 100, 13) L1C reflectance
    lulc = np.load(eolearn / "TestEOPatch" / "mask_timeless" / "LULC.npy")[..., 0]
    return {b: x[..., i] for i, b in enumerate(S2_13)}, lulc


def test_indices_on_real_reflectance_separate_forest_and_artificial(real):
    bands, lulc = real
    nd, nb, mw, bs = ndvi(bands), ndbi(bands), mndwi(bands), bsi(bands)
    for v in (nd, nb, mw, bs):
        assert v.shape == (5, 101, 100) and v.dtype == np.float32
        assert np.nanmin(v) >= -1 and np.nanmax(v) <= 1
    med = lambda v, c: float(np.nanmedian(np.median(v, 0)[lulc == c]))  # noqa: E731
    # forest (2) is green, artificial surface (8) is not: NDVI lower, NDBI and BSI higher
    assert med(nd, 2) > 0.6 and med(nd, 8) < med(nd, 2) - 0.1  # parcel labels: roads with green verges
    assert med(nb, 8) > med(nb, 2) + 0.1
    assert med(bs, 8) > med(bs, 2)
    # the NDVI we compute equals the eo-learn NDVI layer formula (B08-B04)/(B08+B04)
    ref = (bands["B08"] - bands["B04"]) / (bands["B08"] + bands["B04"])
    np.testing.assert_allclose(nd, ref, rtol=1e-5)


def test_normalized_difference_zero_denominator_is_nan():
    out = normalized_difference(np.array([0.0, 0.2], "f4"), np.array([0.0, 0.2], "f4"))
    assert np.isnan(out[0]) and out[1] == 0


def test_compute_indices_skips_indices_without_bands():
    got = compute_indices({"B04": np.ones(3, "f4"), "B08": np.ones(3, "f4")})
    assert set(got) == {"NDVI"}


def test_feature_spec_ignores_clouds_and_names_match(real):
    bands, _ = real
    spec = FeatureSpec(bands=("B02", "B03", "B04", "B08", "B11", "B12"), context=(3,))
    cube = np.stack([bands[b] for b in spec.bands], axis=1).copy()
    cube[0, :, :10, :10] = np.nan  # one cloudy date over a corner
    f = spec.compute(cube)
    assert f.shape == (101, 100, len(spec.names))
    assert np.isfinite(f).all()
    # the median over the 4 clear dates is used where date 0 is masked
    i = spec.names.index("B04_median")
    assert f[0, 0, i] == pytest.approx(np.median(cube[1:, 2, 0, 0]), rel=1e-5)


def test_feature_spec_rejects_index_without_bands():
    with pytest.raises(ValueError, match="needs bands"):
        FeatureSpec(bands=("B04", "B08"), indices=("NDBI",))
