"""Hard preset specifics (GCJ-02 track, file faults) and the `parkscan simulate` command."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyproj
from click.testing import CliRunner


def test_hard_mobile_faults_and_datum(hard):
    from parkscan.aoi.datum import convert

    kinds = {f["kind"] for f in hard.truth["mobile"]["faults"]}
    assert kinds == {"duplicate_time", "gps_jump", "negative_value", "stationary_stop"}
    df = pd.read_csv(hard.mobile[0], encoding="utf-8-sig")
    t = pd.to_datetime(df["采样时间"])
    assert t.duplicated().sum() >= 1
    assert (df["SO2(ppb)"] < 0).sum() >= 1
    tr = pyproj.Transformer.from_crs("EPSG:4326", hard.truth["park"]["crs"], always_xy=True)
    lon, lat = convert(df["经度"].to_numpy(), df["纬度"].to_numpy(), "gcj02", "wgs84")
    x, y = tr.transform(lon, lat)
    step = np.hypot(np.diff(x), np.diff(y))
    dt = np.diff(t.to_numpy()).astype("timedelta64[s]").astype(float)
    speed_kmh = np.where(dt > 0, step / np.maximum(dt, 1) * 3.6, 0)
    assert (speed_kmh > 150).sum() >= 1  # the GPS jump
    still = (df["车速(km/h)"] == 0).to_numpy()
    runs = np.diff(np.flatnonzero(np.diff(np.r_[0, still.astype(int), 0])))[::2]
    assert runs.max() >= 60  # the stationary stop
    # GCJ-02 coordinates are shifted by hundreds of metres from WGS-84; converted back they lie in the park area
    x_raw, y_raw = tr.transform(df["经度"].to_numpy(), df["纬度"].to_numpy())
    assert 200 < np.median(np.hypot(x_raw - x, y_raw - y)) < 900
    import geopandas as gpd

    man = gpd.read_file(hard.park).to_crs(hard.truth["park"]["crs"]).union_all().buffer(60)
    from shapely import points

    inside = man.contains(points(x, y))
    assert inside.mean() > 0.98


def test_cli_simulate_usage(tmp_path):
    """A good run is in test_reproducible; here the usage errors (exit code 2)."""
    from parkscan.diagnostics.cli import cli

    assert CliRunner().invoke(cli, ["simulate", "--preset", "small"]).exit_code == 2  # --out is required
    bad = CliRunner().invoke(cli, ["simulate", "--out", str(tmp_path / "b"), "--preset", "nope"])
    assert bad.exit_code == 2


def test_hard_confounders_look_changed_but_are_not(hard):
    import rasterio
    import shapely
    from rasterio import features
    from shapely.geometry import shape

    feats = hard.truth["confounders"]["features"]
    assert len(feats) >= 2 and {f["properties"]["kind"] for f in feats} == {"harvested_field", "flooded_paddy"}
    tr = pyproj.Transformer.from_crs("EPSG:4326", hard.truth["park"]["crs"], always_xy=True)
    with rasterio.open(hard.out_dir / hard.truth["landcover"]["before"]) as a, \
            rasterio.open(hard.out_dir / hard.truth["landcover"]["after"]) as b:
        la, lb, transform = a.read(1), b.read(1), a.transform
    with rasterio.open(sorted(hard.imagery.glob("S2_L2A_*.tif"))[1]) as src:
        r = src.read([3, 7]).astype(float) * 1e-4
    ndvi = (r[1] - r[0]) / (r[1] + r[0])
    for f in feats:
        g = shapely.transform(shape(f["geometry"]), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        m = features.rasterize([(g, 1)], out_shape=la.shape, transform=transform) == 1
        assert (la[m] == 3).all() and (lb[m] == 3).all()  # still cropland in truth
        assert ndvi[m].mean() < 0.5  # but it does not look like a green field on the 'after' date
