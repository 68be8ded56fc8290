"""Sentinel-2 L2A .SAFE folders (offset, 20 m bands, SCL) and prediction with a distributed client (model scattered)."""
from __future__ import annotations

import numpy as np
import pytest


def _band(path, value, shape, transform, crs, dtype="uint16"):
    import rasterio

    path.parent.mkdir(parents=True, exist_ok=True)
    prof = {"driver": "GTiff", "dtype": dtype, "count": 1, "height": shape[0], "width": shape[1], "crs": crs,
            "transform": transform, "nodata": 0}
    with rasterio.open(path, "w", **prof) as dst:  # GeoTIFF content under a .jp2 name: GDAL probes the content
        dst.write(np.broadcast_to(np.asarray(value, dtype), shape)[None])


def test_open_safe_folder_applies_offset_and_scl(tmp_path):
    from affine import Affine
    from shapely.geometry import box

    from parkscan.aoi.park import Park
    from parkscan.sources.imagery import S2_BANDS, open_imagery

    park = Park(id="s", name="safe", approved=box(120.600, 31.250, 120.606, 31.255))
    g = park.grid(10, ring_m=200)
    safe = tmp_path / "S2A_MSIL2A_20240615T024531_N0510_R132_T51RUQ_20240615T070000.SAFE"
    img = safe / "GRANULE" / "L2A_T51RUQ" / "IMG_DATA"
    for b in S2_BANDS:
        if b in ("B02", "B03", "B04", "B08"):
            _band(img / "R10m" / f"T51RUQ_20240615T024531_{b}_10m.jp2", 2000, g.shape, g.transform, g.crs)
        else:
            t20 = Affine(20, 0, g.transform.c, 0, -20, g.transform.f)
            _band(img / "R20m" / f"T51RUQ_20240615T024531_{b}_20m.jp2", 3000, (-(-g.shape[0] // 2), -(-g.shape[1] // 2)),
                  t20, g.crs)
    scl = np.full(g.shape, 4, np.uint8)
    scl[:3] = 9
    t20 = Affine(20, 0, g.transform.c, 0, -20, g.transform.f)
    _band(img / "R20m" / "T51RUQ_20240615T024531_SCL_20m.jp2", scl[::2, ::2], scl[::2, ::2].shape, t20, g.crs, "uint8")
    (safe / "MTD_MSIL2A.xml").write_text('<x><BOA_ADD_OFFSET band_id="0">-1000</BOA_ADD_OFFSET></x>')
    ds = open_imagery(tmp_path, park, period="2024-06-01/2024-06-30", ring_m=200)
    assert list(ds.data_vars) == list(S2_BANDS) and ds.attrs["dates"] == ["2024-06-15"]
    v = ds["B04"].values[0]
    assert np.nanmax(v) == pytest.approx(0.1, abs=1e-6)  # (2000 − 1000) × 1e-4
    assert np.nanmedian(ds["B11"].values) == pytest.approx(0.2, abs=1e-6)  # 20 m band resampled to 10 m
    assert np.isnan(v[:4]).all() and np.isfinite(v[8:]).all()  # SCL cloud rows masked


def test_predict_with_distributed_client_scatters_model(tmp_path):
    distributed = pytest.importorskip("distributed")

    from parkscan.models.landcover.features import FeatureSpec
    from parkscan.models.landcover.model import train_model
    from parkscan.models.landcover.predict import predict_cube_dask

    rng = np.random.default_rng(1)
    cube = rng.uniform(0.01, 0.4, (1, 6, 40, 36)).astype("float32")
    spec = FeatureSpec(context=(3,))
    f = spec.compute(cube)
    model = train_model(f, np.where(f[..., 0] > np.median(f[..., 0]), 1, 3), spec)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        got = predict_cube_dask(model, cube, chunk=16, client=client).compute()
        assert len(client.who_has()) >= 1
    np.testing.assert_array_equal(got, model.predict_cube(cube))
