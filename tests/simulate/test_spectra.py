"""The committed class spectra are what the derivation from real Sentinel-2 data gives, and they make sense."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from parkscan.sources.simulate import _spectra_data
from parkscan.sources.simulate._derive_spectra import derive
from parkscan.sources.simulate.spectra import BANDS, CLASSES, class_cov, class_mean

SLOVENIA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sentinel2-slovenia-eolearn"


def test_constants_match_the_derivation_from_real_data():
    if not (SLOVENIA / "REFERENCE_SCENES.npy").exists():
        pytest.skip(f"real data {SLOVENIA} is absent")
    res = derive(SLOVENIA)
    assert res["path_reflectance"] == pytest.approx(_spectra_data.PATH_REFLECTANCE, abs=1e-5)
    for name, d in _spectra_data.DERIVED.items():
        assert res[name]["mean"] == pytest.approx(d["mean"], abs=1e-5)
        assert np.allclose(res[name]["cov"], d["cov"], atol=1e-6)
        assert res[name]["n_pixels"] == d["n_pixels"]


def _idx(name):
    r = dict(zip(BANDS, class_mean(name)))
    return {"ndvi": (r["B08"] - r["B04"]) / (r["B08"] + r["B04"]),
            "ndbi": (r["B11"] - r["B08"]) / (r["B11"] + r["B08"]),
            "mndwi": (r["B03"] - r["B11"]) / (r["B03"] + r["B11"]),
            "bsi": ((r["B11"] + r["B04"]) - (r["B08"] + r["B02"])) / ((r["B11"] + r["B04"]) + (r["B08"] + r["B02"]))}


def test_class_spectra_are_physically_sensible():
    assert _idx("vegetation")["ndvi"] > 0.7 and _idx("cropland")["ndvi"] > 0.6
    assert _idx("water")["mndwi"] > 0.5 and _idx("water")["ndvi"] < 0
    assert _idx("built")["ndbi"] > 0 and _idx("bare")["ndbi"] > 0
    assert _idx("bare")["bsi"] > _idx("built")["bsi"] > _idx("vegetation")["bsi"]
    for name in CLASSES.values():
        cov = class_cov(name)
        assert np.allclose(cov, cov.T) and np.linalg.eigvalsh(cov).min() > -1e-9
        assert (class_mean(name) > 0).all() and (class_mean(name) < 0.6).all()
