"""Models: background, peaks, segments and passes, Gi* + BH, attribution, lag, the whole analysis."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyproj
import pytest

from parkscan.aoi.errors import ModelError
from parkscan.models.mobile import analyse, background, build_segments, find_peaks, gi_star
from parkscan.models.mobile.attribution import fingerprint_similarity, industry_key, multi_pass_scores
from parkscan.models.mobile.background import add_background
from parkscan.models.mobile.evaluate import naive_ranking, topk_scores
from parkscan.models.mobile.lag import estimate_lag_from_peaks, shift_series
from parkscan.sources.mobile import read_mobile

from .conftest import ENTERPRISES, HOT_XY, loop_track

pytestmark = pytest.mark.filterwarnings("ignore::parkscan.aoi.errors.DataQualityWarning")
UTM = pyproj.CRS.from_epsg(32651)


def test_background_percentile_ignores_spikes_and_follows_drift():
    t = np.arange(3600.0)
    base = 20 + 10 * t / 3600
    v = base.copy()
    v[1000:1020] += 300
    bg = background(t, v, window_s=300, q=0.05)
    assert np.abs(bg - base).max() < 1.0
    med = background(t, v, method="median")
    assert np.abs(med - base).max() < 1.0
    with pytest.raises(ModelError):
        background(t, v, method="mean")


def _pts(values, x=None, trip="a"):
    n = len(values)
    t = np.arange(float(n))
    return pd.DataFrame({"t": t, "trip": trip, "x": np.arange(n) * 8.0 if x is None else x, "y": 0.0, "lon": 0.0, "lat": 0.0,
                         "mappable": True, "valid": True, "tvoc": values})


def test_peaks_grouped_in_time_and_space():
    rng = np.random.default_rng(0)
    v = 40 + rng.normal(0, 1, 1000)
    v[200:210] += 50
    v[213:216] += 40  # 3 s later: same peak
    v[600:608] += 30
    v[800] += 80  # single-point spike: noise
    p = add_background(_pts(v), ["tvoc"])
    pk = find_peaks(p, "tvoc")
    assert len(pk) == 2
    assert pk["t_start"].tolist() == [200.0, 600.0] and pk["n_points"].iloc[0] == 13
    assert pk["max_excess"].iloc[0] == pytest.approx(50, abs=4) and pk["area"].iloc[0] > 400


def test_segments_passes_and_reliability():
    # 5 laps over a 2 km line and back; the first 200 m driven 5 more times
    laps = []
    for k in range(5):
        x = np.concatenate([np.arange(0, 2000, 8.0), np.arange(2000, 0, -8.0)])
        laps.append(x)
    for k in range(5):
        laps.append(np.arange(0, 200, 8.0))
    x = np.concatenate(laps)
    t = np.concatenate([np.arange(len(lap)) + 1000.0 * i for i, lap in enumerate(laps)])  # laps 1000 s apart
    pts = pd.DataFrame({"x": x, "y": 0.0, "t": t, "trip": "a", "mappable": True, "no2": 1.0})
    s = build_segments(pts, ["no2"], crs=UTM, spacing_m=30)
    tb = s.table
    assert 60 <= len(tb) <= 75 and (tb["length_m"] <= 60).all()
    near0 = tb.loc[tb["x"] < 150, "n_passes"]
    far = tb.loc[(tb["x"] > 500) & (tb["x"] < 1500), "n_passes"]
    assert (near0 >= 14).all() and (far == 10).all()  # out-and-back = 2 passes per lap
    assert tb["reliable"].all()
    one = build_segments(pts.iloc[:250], ["no2"], crs=UTM)
    assert not one.table["reliable"].any()


def test_segment_value_is_median_over_passes_not_points():
    # pass 1 crawls (100 points at 100), passes 2-5 are fast (4 points at 1 each)
    x = np.concatenate([np.linspace(0, 20, 100)] + [np.linspace(0, 20, 4)] * 4)
    t = np.concatenate([np.arange(100.0)] + [1000.0 * (k + 1) + np.arange(4.0) for k in range(4)])
    v = np.concatenate([np.full(100, 100.0)] + [np.ones(4)] * 4)
    pts = pd.DataFrame({"x": x, "y": 0.0, "t": t, "trip": "a", "mappable": True, "no2": v})
    tb = build_segments(pts, ["no2"], crs=UTM).table
    assert len(tb) == 1 and tb["n_passes"].iloc[0] == 5 and tb["no2"].iloc[0] == 1.0


def test_gi_star_and_fdr():
    rng = np.random.default_rng(1)
    x = np.arange(400) * 30.0
    v = rng.normal(0, 1, 400)
    v[200:204] += 6
    g = gi_star(x, np.zeros(400), v, band_m=100)
    hot = np.flatnonzero(g["hot"])
    assert hot.min() >= 196 and hot.max() <= 207 and len(hot) >= 4
    assert (g.loc[g["hot"], "q"] <= 0.05).all() and (g["q"] >= g["p"] - 1e-12).all()
    # pure noise: BH keeps false alarms rare
    g0 = gi_star(x, np.zeros(400), rng.normal(0, 1, 400))
    assert g0["hot"].sum() <= 3
    with pytest.raises(ModelError):
        gi_star(x[:2], np.zeros(2), v[:2])


def test_fingerprints():
    assert industry_key("热电") == "power" and industry_key("金属/电镀") == "metal_plating"
    assert fingerprint_similarity({"toluene": 4, "xylene": 5, "so2": 0}, "涂装") > 0.9
    assert fingerprint_similarity({"toluene": 0, "xylene": 0, "so2": 5, "no2": 4}, "热电") > 0.9
    assert fingerprint_similarity({"toluene": 4, "xylene": 5}, "热电") is None  # its pollutants were not measured
    assert fingerprint_similarity({"toluene": 4, "xylene": 5, "so2": 0}, "热电") == 0.0
    assert fingerprint_similarity({"tvoc": 3}, None) is None


def test_multi_pass_scores_triangulate():
    ex = np.array([0.0, 0.0, 300.0])
    ey = np.array([-300.0, 300.0, 0.0])  # south, north, east
    # elevated passes with winds from the south; a clean pass with wind from the east
    passes = pd.DataFrame({"elevation": [5.0, 4.0, 0.0], "wind_from": [175.0, 185.0, 90.0]})
    s = multi_pass_scores(ex, ey, 0.0, 0.0, passes)
    assert s["score"].idxmax() == 0 and s["score"].iloc[1] < 0.05 * s["score"].iloc[0]
    assert s["score"].iloc[2] < s["score"].iloc[0]


def test_lag_estimated_from_opposite_passes():
    # out-and-back passes over a plume at x=1000; the analyser reports 6 s late at 8 m/s
    xs, ts, trip = [], [], []
    t0 = 0.0
    for k in range(6):
        x = np.arange(0, 2000, 8.0) if k % 2 == 0 else np.arange(2000, 0, -8.0)
        xs.append(x)
        ts.append(t0 + np.arange(len(x)))
        t0 += len(x) + 30
    x = np.concatenate(xs)
    t = np.concatenate(ts)
    true = 50 * np.exp(-((x - 1000) ** 2) / (2 * 30.0**2))
    late = np.interp(t - 6, t, true)
    pts = pd.DataFrame({"t": t, "x": x, "y": 0.0, "lon": 0.0, "lat": 0.0, "trip": "a", "valid": True, "mappable": True, "tvoc": 10 + late})
    pts = add_background(pts, ["tvoc"])
    lag, info = estimate_lag_from_peaks(pts, find_peaks(pts, "tvoc"))
    assert lag == 6, info
    fixed = shift_series(pts, "tvoc", lag)
    i = np.nanargmax(fixed[: len(xs[0])])
    assert abs(x[i] - 1000) <= 16


def test_analyse_finds_plume_and_upwind_enterprise(track_csv):
    run = read_mobile(track_csv)
    a = analyse(run, enterprises=ENTERPRISES)
    assert len(a.hotspots) >= 1
    h = a.hotspots.iloc[0]
    assert {"tvoc", "toluene", "xylene"} & set(h["pollutants"])
    assert np.hypot(h["x"] - a.segments.table["x"].min() - HOT_XY[0], 0) < 1e9  # finite
    lon0, lat0 = h["lon"], h["lat"]
    from .conftest import M_LAT, M_LON, LON0, LAT0

    assert np.hypot((lon0 - LON0) * M_LON - HOT_XY[0], (lat0 - LAT0) * M_LAT - HOT_XY[1]) < 80
    assert h["enterprise_id"] == "E-TRUE" and h["candidates"][0]["enterprise_id"] == "E-TRUE"
    assert h["wind_source"] == "file" and abs(h["wind_from"] - 180) < 15
    assert h["n_passes"] >= 4 and h["reliable"] and min(h["q"].values()) < 0.05
    assert a.enterprise_scores["enterprise_id"].iloc[0] == "E-TRUE"
    assert "SO2" not in str(h["pollutants"]).upper()
    assert h["fingerprint"]["industry"] in ("coating", "printing")


def test_naive_ranking_and_topk():
    pts = pd.DataFrame({"x": [0.0, 100.0, 1000.0], "y": 0.0, "valid": True, "no2": [10.0, 50.0, 20.0]})
    ids = naive_ranking(pts, ["no2"], np.array([90.0, 990.0]), np.array([0.0, 0.0]), ["A", "B"])
    assert ids == ["A", "B"]
    assert topk_scores(ids, {"B"}, 1) == (0.0, 0.0)


def test_segments_along_given_roads(track_csv, tmp_path):
    import geopandas as gpd
    from shapely.geometry import LineString

    from .conftest import xy_to_lonlat

    # only the southern edge of the loop is a "road"; fixes elsewhere are not mapped
    lon, lat = xy_to_lonlat([0, 1000], [0, 0])
    roads = gpd.GeoDataFrame(geometry=[LineString(zip(lon, lat))], crs=4326)
    roads.to_file(tmp_path / "roads.geojson")
    run = read_mobile(track_csv)
    a = analyse(run, enterprises=ENTERPRISES, roads=tmp_path / "roads.geojson")
    tb = a.segments.table
    line = roads.to_crs(a.crs).geometry.iloc[0]
    from shapely import points as _points

    assert 30 <= len(tb) <= 36 and (line.distance(_points(tb["x"].to_numpy(), tb["y"].to_numpy())) < 15).all()
    assert (a.points["segment"] >= 0).mean() < 0.5
    assert a.hotspots["enterprise_id"].iloc[0] == "E-TRUE"


def test_gi_star_permutation_inference():
    rng = np.random.default_rng(3)
    x = np.arange(120) * 30.0
    v = rng.gamma(2.0, 1.0, 120)
    v[60:63] += 15
    g = gi_star(x, np.zeros(120), v, permutations=199, alpha=0.1)
    assert g["hot"].iloc[59:64].all() and g["p"].min() >= 1 / 200 - 1e-9  # a permutation p-value cannot go below 1/(n+1)
