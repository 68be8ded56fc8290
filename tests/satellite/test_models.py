"""Oversampling, enhancement, flux divergence, thermal anomalies, heat-source clustering."""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from shapely.geometry import box

from parkscan.aoi import Park
from parkscan.aoi.errors import ModelError
from parkscan.models.satellite.fires import HeatSourceParams, cluster_detections
from parkscan.models.satellite.flux import DETECTION_LIMITS, flux_divergence, wind_vector
from parkscan.models.satellite.no2 import cell_masks, oversample, park_enhancement, remove_daily_background
from parkscan.models.satellite.thermal import ThermalParams, thermal_anomalies
from parkscan.sources.readers.s5p import read_s5p

from _sat_s5p import field_file
from _sat_scene import make_park, plume_field

PARK = Park(id="p", name="p", approved=box(120.58, 31.28, 120.62, 31.32))


def _pixels_square(park, xs, ys, size, values, sigma=1e-5):
    """Axis-aligned square pixels (metric centres) as a read_s5p-like dataset."""
    lb, ab = [], []
    for x, y in zip(xs, ys):
        cx = np.array([x - size / 2, x + size / 2, x + size / 2, x - size / 2])
        cy = np.array([y - size / 2, y - size / 2, y + size / 2, y + size / 2])
        lo, la = park.xy_to_lonlat(cx, cy)
        lb.append(lo)
        ab.append(la)
    n = len(xs)
    return xr.Dataset({"value": ("pixel", np.asarray(values, float)), "precision": ("pixel", np.full(n, sigma)),
                       "lon_bounds": (("pixel", "corner"), np.array(lb)), "lat_bounds": (("pixel", "corner"), np.array(ab)),
                       "time": ("pixel", np.full(n, np.datetime64("2020-03-01T05:00", "ns")))}, attrs={"product": "NO2"})


@pytest.mark.parametrize("method", ["polygon", "gaussian"])
def test_oversample_uniform_field_is_exact(method):
    g = PARK.grid(1000, ring_m=8000)
    x, y = g.coords()
    xs, ys = np.meshgrid(np.arange(x[0], x[-1], 3000.0), np.arange(y[-1], y[0], 3000.0))
    ds = _pixels_square(PARK, xs.ravel(), ys.ravel(), 3500.0, np.full(xs.size, 3e-5))
    ov = oversample([ds], g, method=method)
    fin = np.isfinite(ov.mean)
    assert fin.sum() > 0.5 * fin.size
    np.testing.assert_allclose(ov.mean[fin], 3e-5, rtol=1e-9)


def test_polygon_overlap_fractions():
    """One 2 km square pixel aligned on a 1 km grid: exactly 4 cells with weight 1/4 each (× 1/σ²)."""
    g = PARK.grid(1000, ring_m=5000)
    x, y = g.coords()
    cx, cy = x[5] + 500.0, y[5] - 500.0  # a cell corner
    ds = _pixels_square(PARK, [cx], [cy], 2000.0, [1.0], sigma=1.0)
    ov = oversample([ds], g, method="polygon", sub=8)
    w = ov.weight[ov.weight > 0]
    # the pixel corners are projected back and forth through WGS-84: allow a sub-sample of slack
    assert (ov.weight > 1e-3).sum() == 4
    np.testing.assert_allclose(np.sort(w)[-4:], 0.25, atol=0.02)


def _plume_files(tmp_path, e_kg_s, n_days=14, noise=1.5e-5):
    park = make_park(seed=1)
    src = (park.footprint.centroid.x, park.footprint.centroid.y)
    f = plume_field(src, e_kg_s, 4.0, 270.0)
    files = [field_file(tmp_path, day=d, lon0=src[0], lat0=src[1], field=f, noise=noise, nscan=30, npix=26) for d in range(n_days)]
    pix = [read_s5p(p, park=park, ring_m=15000) for p in files]
    g = park.grid(1000, ring_m=20000)
    masks = cell_masks(park, g, ring_m=15000)
    pix = remove_daily_background(pix, park, ring_m=15000)
    assert all(abs(p.attrs["background"] - 2e-5) < 1e-5 for p in pix)
    return park, src, oversample(pix, g, masks=masks), masks


def test_enhancement_and_flux_recover_a_planted_plume(tmp_path):
    park, src, ov, masks = _plume_files(tmp_path, 0.5)
    enh = park_enhancement(ov, masks)
    assert enh.detectable and enh.z > 5 and enh.n_days == 14
    assert np.isfinite(enh.se_bootstrap) and enh.se >= enh.se_precision
    est = flux_divergence(ov, park, wind={"from_deg": 270, "speed_ms": 4.0}, background=0.0)
    assert est.status == "detected"
    assert est.emission_kg_s == pytest.approx(0.5, rel=0.35)
    assert est.detection_limit_kg_s == DETECTION_LIMITS["NO2"]


def test_no_plume_is_not_detectable_never_zero(tmp_path):
    park, _, ov, masks = _plume_files(tmp_path, 0.0, n_days=8)
    enh = park_enhancement(ov, masks)
    assert not enh.detectable and enh.upper_limit > 0
    est = flux_divergence(ov, park, wind={"from_deg": 270, "speed_ms": 4.0}, background=0.0)
    assert est.status == "not_detectable"


def test_wind_vector():
    assert wind_vector({"from_deg": 0, "speed_ms": 5}) == pytest.approx((0.0, -5.0), abs=1e-9)  # northerly blows south
    with pytest.raises(ModelError):
        wind_vector({"speed_ms": 5})
    assert DETECTION_LIMITS["SO2"][0] * 365.25 * 86400 / 1e6 == pytest.approx(8.0)


def _lst(park, T):
    g = park.grid(30, ring_m=1500)
    x, y = g.coords()
    return xr.DataArray(T, dims=("y", "x"), coords={"y": y, "x": x}), g


def test_thermal_roofs_outfall_and_no_false_alarms():
    park = make_park(seed=2)
    g = park.grid(30, ring_m=1500)
    x, y = g.coords()
    X, Y = np.meshgrid(x, y)
    rng = np.random.default_rng(0)
    T = 300 + 0.0005 * (X - X.mean()) + rng.normal(0, 0.7, g.shape)
    classes = np.zeros(g.shape, int)
    classes[:, :12] = 1  # water strip, 6 K cooler than land
    T[classes == 1] -= 6
    lst, _ = _lst(park, T.copy())
    assert len(thermal_anomalies(lst, park, classes=classes).anomalies) == 0  # cool water is not an anomaly of land
    ent = park.enterprises
    ex, ey = park.lonlat_to_xy(ent.lon.iloc[:2].to_numpy(), ent.lat.iloc[:2].to_numpy())
    for a, b in zip(ex, ey):
        T[(np.abs(X - a) < 50) & (np.abs(Y - b) < 50)] += 9
    T[100:104, 3:8] += 7  # warm cooling-water outfall in the canal, barely warmer than land
    lst, _ = _lst(park, T)
    res = thermal_anomalies(lst, park, classes=classes, class_names={0: "built-up", 1: "water"})
    a = res.anomalies
    roofs = a[a.kind != "outfall"]
    assert set(roofs.enterprise_id) == set(ent.enterprise_id.iloc[:2])
    assert (roofs.delta_max_k > 7).all()
    assert (a.kind == "outfall").sum() == 1
    # without the class raster the outfall is invisible (water looks cold against land)
    plain = thermal_anomalies(lst, park, params=ThermalParams()).anomalies
    assert (plain.kind == "outfall").sum() == 0 and len(plain) >= 2


def test_thermal_needs_pixels():
    park = make_park(seed=2)
    lst, g = _lst(park, np.full(park.grid(30, ring_m=1500).shape, np.nan))
    with pytest.raises(ModelError, match="valid LST pixels"):
        thermal_anomalies(lst, park)


def _firms_df(rows, with_type):
    df = pd.DataFrame(rows, columns=["latitude", "longitude", "date", "frp", "type"])
    if not with_type:
        df = df.drop(columns="type")
    else:
        df["type"] = df["type"].astype("Int64")
    df["valid"] = True
    df["daynight"] = "N"
    df.attrs["sensor"] = "VIIRS"
    return df


@pytest.mark.parametrize("with_type", [False, True])
def test_heat_sources_persistent_vs_one_off(with_type):
    park = make_park(seed=4)
    rng = np.random.default_rng(1)
    d0 = date(2020, 1, 1)
    rows = []
    s = (float(park.enterprises.lon.iloc[0]), float(park.enterprises.lat.iloc[0]))
    for d in rng.choice(90, 15, replace=False):  # a furnace: 15 dates in 90 days, ±150 m
        rows.append((s[1] + rng.normal(0, 150) / 110570, s[0] + rng.normal(0, 150) / 95000, (d0 + timedelta(days=int(d))).isoformat(), 30.0, 2))
    v = (s[0] + 0.015, s[1] - 0.012)
    for k in range(6):  # a crop fire: 6 detections on 2 consecutive days
        rows.append((v[1] + rng.normal(0, 0.002), v[0] + rng.normal(0, 0.002), (d0 + timedelta(days=40 + k % 2)).isoformat(), 8.0, 0))
    rows.append((s[1], s[0] + 0.5, (d0 + timedelta(days=89)).isoformat(), 5.0, 0))  # far away: set the 90-day span
    rows.append((s[1], s[0] + 0.5, d0.isoformat(), 5.0, 0))
    cl, det = cluster_detections(_firms_df(rows, with_type), park)
    pers = cl[cl.cls == "persistent"]
    assert len(pers) == 1 and pers.n_dates.iloc[0] == 15 and pers.span_days.iloc[0] == 90
    assert pers.persistence.iloc[0] == pytest.approx(15 / 90)
    err = np.hypot(*(np.subtract(park.lonlat_to_xy(pers.lon.iloc[0], pers.lat.iloc[0]), park.lonlat_to_xy(*s))))
    assert err < 150
    others = cl[cl.cls != "persistent"]
    assert len(others) >= 1 and (others.cls == ("vegetation" if with_type else "transient")).all()
    assert len(det) == 21  # the far detections are outside park + ring


def test_firms_type_decides_when_present():
    park = make_park(seed=4)
    s = (float(park.enterprises.lon.iloc[1]), float(park.enterprises.lat.iloc[1]))
    rows = [(s[1], s[0], f"2020-01-{d:02d}", 10.0, 0) for d in range(1, 11)]  # 10 dates but FIRMS says vegetation
    cl, _ = cluster_detections(_firms_df(rows, True), park, params=HeatSourceParams(min_dates=3))
    assert cl.cls.tolist() == ["vegetation"]


def test_thermal_with_ndvi_strata():
    park = make_park(seed=5)
    g = park.grid(30, ring_m=1500)
    x, y = g.coords()
    X, Y = np.meshgrid(x, y)
    rng = np.random.default_rng(3)
    ndvi = np.where(X < X.mean(), 0.7, 0.15) + rng.normal(0, 0.03, g.shape)  # fields west, built-up east
    T = np.where(ndvi > 0.4, 302.0, 314.0) + rng.normal(0, 0.6, g.shape)
    ex, ey = park.lonlat_to_xy(float(park.enterprises.lon.iloc[0]), float(park.enterprises.lat.iloc[0]))
    T[(np.abs(X - ex) < 60) & (np.abs(Y - ey) < 60)] += 10
    lst, _ = _lst(park, T)
    lst.attrs["footprint_m"] = 30.0  # a sharp (not TIRS-blurred) raster: footprint = pixel
    res = thermal_anomalies(lst, park, ndvi=ndvi)
    assert res.strata_source == "ndvi"
    assert res.anomalies.enterprise_id.tolist() == [park.enterprises.enterprise_id.iloc[0]]


def test_flux_with_daily_winds_from_the_files(tmp_path):
    """Each orbit carries its own wind (INPUT_DATA): the plume turns with it and the estimate follows."""
    park = make_park(seed=1)
    src = (park.footprint.centroid.x, park.footprint.centroid.y)
    files = []
    for d, (frm, spd) in enumerate([(270, 4.0), (200, 5.0), (135, 3.5), (300, 3.0), (90, 4.5), (20, 3.0)]):
        u, v = wind_vector({"from_deg": frm, "speed_ms": spd})
        files.append(field_file(tmp_path, day=d, lon0=src[0], lat0=src[1], field=plume_field(src, 0.5, spd, frm),
                                noise=1e-5, nscan=30, npix=26, wind=(u, v)))
    pix = remove_daily_background([read_s5p(p, park=park, ring_m=15000) for p in files], park, ring_m=15000)
    g = park.grid(1000, ring_m=20000)
    ov = oversample(pix, g, masks=cell_masks(park, g, ring_m=15000))
    assert ov.has_wind and ov.day_wind.shape == (6, 2)
    est = flux_divergence(ov, park, wind=None, background=0.0)
    assert est.emission_kg_s == pytest.approx(0.5, rel=0.35) and est.status == "detected"
    # one wrong mean wind for all days does worse than the daily winds
    wrong = flux_divergence(ov, park, wind={"from_deg": 90, "speed_ms": 4.0}, background=0.0)
    assert abs(wrong.emission_kg_s - 0.5) > abs(est.emission_kg_s - 0.5)
