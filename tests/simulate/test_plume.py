"""Gaussian plume physics and the plume in the mobile data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkscan.sources.simulate.plume import plume_concentration, ppb_from_ugm3, sigmas


@settings(max_examples=30, deadline=None)
@given(st.floats(0, 359.9), st.floats(1, 8), st.sampled_from(list("ABCDEF")))
def test_downwind_only_and_centreline_max(from_deg, speed, stab):
    a = np.radians(from_deg)
    to = np.array([-np.sin(a), -np.cos(a)])  # unit vector the air moves to
    d = np.array([50, 150, 300, 600, 1200.0])
    down = plume_concentration(d * to[0], d * to[1], 0, 0, 1.0, from_deg=from_deg, speed=speed, stability=stab,
                               height=2.0)
    up = plume_concentration(-d * to[0], -d * to[1], 0, 0, 1.0, from_deg=from_deg, speed=speed, stability=stab)
    assert (up == 0).all() and (down > 0).all()
    side = plume_concentration(300 * to[0] + 80 * to[1], 300 * to[1] - 80 * to[0], 0, 0, 1.0, from_deg=from_deg,
                               speed=speed, stability=stab, height=2.0)
    assert side[()] < down[2]


def test_mass_flux_conserved():
    # flux through a crosswind plane downwind of a ground source equals the emission rate
    x = 500.0
    y = np.linspace(-600, 600, 601)
    z = np.linspace(0, 400, 401)
    yy, zz = np.meshgrid(y, z)
    c = plume_concentration(np.full(yy.shape, x), yy, 0, 0, 2.0, from_deg=270, speed=4.0, stability="D", height=0.0,
                            z=zz) / 1e6
    flux = np.trapezoid(np.trapezoid(c, y, axis=1), z) * 4.0
    assert flux == pytest.approx(2.0, rel=0.02)


def test_sigmas_grow_and_order():
    x = np.array([100.0, 1000.0])
    sy_a, sz_a = sigmas(x, "A")
    sy_f, sz_f = sigmas(x, "F")
    assert (np.diff(sy_a) > 0).all() and (sy_a > sy_f).all() and (sz_a > sz_f).all()


def test_ppb_conversion():
    # 1 ppb benzene ≈ 3.19 µg/m³ at 25 °C
    assert ppb_from_ugm3(3.19, "苯") == pytest.approx(1.0, rel=0.01)


def test_mobile_readings_highest_downwind(small):
    """Along the van track, excess concentrations near a source are higher downwind than upwind."""
    t = small.truth
    tr = pyproj.Transformer.from_crs("EPSG:4326", t["park"]["crs"], always_xy=True)
    frames = [pd.read_csv(f, encoding="utf-8-sig") for f in small.mobile]
    df = pd.concat(frames, ignore_index=True)
    df["t"] = pd.to_datetime(df["采样时间"])
    x, y = tr.transform(df["经度"].to_numpy(), df["纬度"].to_numpy())
    wind = np.full(len(df), np.nan)
    for p in t["mobile"]["passes"]:
        sel = (df["t"] >= pd.Timestamp(p["start"])) & (df["t"] <= pd.Timestamp(p["end"]))
        wind[sel.to_numpy()] = p["wind_from_deg"]
    checked = 0
    for s in t["sources"]:
        pol = max(s["rates_gs"], key=s["rates_gs"].get)
        col = t["mobile"]["instrument"][pol]["column"]
        bg = t["mobile"]["instrument"][pol]["background"]
        sx, sy = tr.transform(s["lon"], s["lat"])
        dx, dy = x - sx, y - sy
        a = np.radians(wind)
        along = -(dx * np.sin(a) + dy * np.cos(a))  # distance downwind
        cross = np.abs(dx * np.cos(a) - dy * np.sin(a))
        down = (along > 30) & (along < 400) & (cross < 0.3 * along + 20)
        up = (along < -30) & (along > -400) & (cross < 0.3 * -along + 20)
        if down.sum() < 10 or up.sum() < 10 or s["height_m"] > 20:
            continue
        exc_down = np.percentile(df.loc[down, col] - bg, 90)
        exc_up = np.percentile(df.loc[up, col] - bg, 90)
        assert exc_down > exc_up + 2 * t["mobile"]["instrument"][pol]["noise_sd"], (s["industry"], exc_down, exc_up)
        checked += 1
    assert checked >= 1
