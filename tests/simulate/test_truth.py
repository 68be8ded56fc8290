"""truth.json agrees with the files: sources at enterprises, changes visible, heat where truth says."""
from __future__ import annotations

import numpy as np
import pytest
import pandas as pd
import pyproj
import rasterio
import shapely
from rasterio import features
from shapely.geometry import shape


def _to_local(crs):
    return pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def test_sources_are_enterprises(small):
    ent = pd.read_csv(small.enterprises, encoding="utf-8-sig", dtype={"统一社会信用代码": str})
    ids = dict(zip(ent["统一社会信用代码"], zip(ent["经度"], ent["纬度"])))
    tr = _to_local(small.truth["park"]["crs"])
    assert 3 <= len(small.truth["sources"]) <= 5
    for s in small.truth["sources"]:
        assert s["enterprise_id"] in ids
        ex, ey = tr.transform(*ids[s["enterprise_id"]])
        sx, sy = tr.transform(s["lon"], s["lat"])
        d = np.hypot(ex - sx, ey - sy)
        assert d < 300 and d == pytest.approx(s["distance_to_enterprise_point_m"], abs=1.0)  # within the plot
        assert s["rates_gs"] and all(v > 0 for v in s["rates_gs"].values())


def _indices(path):
    with rasterio.open(path) as src:
        r = src.read(list(range(1, 11))).astype(float) * 1e-4
        t = src.transform
    ndvi = (r[6] - r[2]) / (r[6] + r[2])
    ndbi = (r[8] - r[6]) / (r[8] + r[6])
    return ndvi, ndbi, t


def test_changes_visible_in_imagery(small):
    imgs = sorted(small.imagery.glob("S2_L2A_*.tif"))
    nd0, nb0, transform = _indices(imgs[0])
    nd1, nb1, _ = _indices(imgs[1])
    tr = _to_local(small.truth["park"]["crs"])
    feats = small.truth["changes"]["features"]
    kinds = {f["properties"]["kind"] for f in feats}
    assert {"construction_managed_outside_approved", "construction_outside_both", "soil_exposed"} <= kinds
    union = np.zeros(nd0.shape, bool)
    for f in feats:
        g = shapely.transform(shape(f["geometry"]), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        assert abs(g.area / 1e4 - f["properties"]["area_ha"]) < 0.05 * f["properties"]["area_ha"]
        m = features.rasterize([(g, 1)], out_shape=nd0.shape, transform=transform) == 1
        union |= m
        assert nd1[m].mean() < nd0[m].mean() - 0.3, f["properties"]
        assert nb1[m].mean() > nb0[m].mean() + 0.15, f["properties"]
    # unchanged pixels keep their indices (apart from noise and a little phenology)
    assert abs(np.median(nd1[~union] - nd0[~union])) < 0.05


def test_change_flags_match_boundaries(small):
    import geopandas as gpd

    g = gpd.read_file(small.park)
    appr = g[g["role"] == "approved"].union_all()
    man = g[g["role"] == "managed"].union_all()
    for f in small.truth["changes"]["features"]:
        c = shape(f["geometry"]).centroid
        p = f["properties"]
        assert appr.contains(c) == p["inside_approved"], p
        assert man.contains(c) == p["inside_managed"], p
        if p["kind"] == "construction_managed_outside_approved":
            assert p["inside_managed"] and not p["inside_approved"]
        if p["kind"] == "construction_outside_both":
            assert not p["inside_managed"] and not p["inside_approved"]


def test_true_landcover_rasters(small):
    with rasterio.open(small.out_dir / small.truth["landcover"]["before"]) as a, \
            rasterio.open(small.out_dir / small.truth["landcover"]["after"]) as b:
        la, lb = a.read(1), b.read(1)
    changed_ha = float((la != lb).sum()) * 0.01
    total = sum(f["properties"]["changed_pixels_ha"] for f in small.truth["changes"]["features"])
    assert changed_ha == np.round(total, 2) or abs(changed_ha - total) < 0.02


def test_hot_roofs_are_hot(small):
    tr = _to_local(small.truth["park"]["crs"])
    with rasterio.open(small.thermal) as src:
        k = src.read(1).astype(float) * src.scales[0] + src.offsets[0]
        transform = src.transform
    built = None
    for h in small.truth["thermal"]["hot_roofs"]:
        g = shapely.transform(shape(h["geometry"]), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        m = features.rasterize([(g.buffer(-30), 1)], out_shape=k.shape, transform=transform) == 1
        ring = features.rasterize([(g.buffer(300).difference(g.buffer(60)), 1)], out_shape=k.shape,
                                  transform=transform) == 1
        built = k[ring]
        assert k[m].mean() > np.median(built) + 3, h


def test_persistent_fires_at_heat_sources(small):
    df = pd.read_csv(small.fires)
    tr = _to_local(small.truth["park"]["crs"])
    fx, fy = tr.transform(df["longitude"].to_numpy(), df["latitude"].to_numpy())
    pers = small.truth["fires"]["persistent"]
    src = np.array([tr.transform(p["lon"], p["lat"]) for p in pers])
    dist = np.hypot(fx[:, None] - src[:, 0], fy[:, None] - src[:, 1])
    nearest = dist.argmin(axis=1)
    for k, p in enumerate(pers):
        near = (nearest == k) & (dist[:, k] < 1000)
        assert p["n_detections"] >= 20 and p["n_dates"] >= 15  # persistent: many distinct dates
        assert abs(int(near.sum()) - p["n_detections"]) <= 0.1 * p["n_detections"]
    n_persistent = sum(p["n_detections"] for p in pers)
    assert int((dist.min(axis=1) < 1000).sum()) == n_persistent
    oneoff = small.truth["fires"]["one_off"]
    assert len(oneoff) >= 3 and len(df) == n_persistent + len(oneoff)


def test_no2_park_enhanced(small):
    import h5netcdf

    t = small.truth["no2"]
    tr = _to_local(small.truth["park"]["crs"])
    src = [tr.transform(s["lon"], s["lat"]) for s in t["sources"]]
    near, far = [], []
    for f in small.no2:
        with h5netcdf.File(f, "r") as nc:
            p = nc["PRODUCT"]
            v = p["nitrogendioxide_tropospheric_column"][0]
            qa = p["qa_value"][0]
            qa = qa * 0.01 if qa.dtype == np.uint8 else qa
            x, y = tr.transform(p["longitude"][0], p["latitude"][0])
        d = np.min([np.hypot(x - sx, y - sy) for sx, sy in src], axis=0)
        good = qa > 0.75
        near.extend(v[good & (d < 5000)])
        far.extend(v[good & (d > 15000)])
    assert np.mean(near) > np.mean(far) + 1e-5
