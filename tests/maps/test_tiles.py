"""Static-map basemaps: tiles served over loopback, stitched, cached, reprojected; GCJ-02 correction."""
from __future__ import annotations

import math

import numpy as np
import pytest

from parkscan.aoi.errors import ParkscanError
from parkscan.aoi.options import set_options
from parkscan.maps.basemaps import Basemap, TileSpec
from parkscan.maps.tiles import fetch_mosaic, tile_range

TILE_RGB = (0, 190, 255)


def test_tile_range_limits_tiles():
    z, x0, x1, y0, y1 = tile_range(120.59, 31.25, 120.67, 31.31, max_tiles=16)
    assert (x1 - x0 + 1) * (y1 - y0 + 1) <= 16
    z2 = tile_range(120.59, 31.25, 120.67, 31.31, max_tiles=64)[0]
    assert z2 >= z


def test_static_map_with_loopback_tiles_and_cache(layers, tmp_path, tile_server):
    from parkscan.maps.static import render_static

    spec = TileSpec(tile_server.url + "/{z}/{x}/{y}.png", "test tiles", "test", subdomains="")
    with set_options(cache_dir=str(tmp_path / "cache"), http_retries=0):
        p = render_static(layers[:2], tmp_path / "t.png", title="tiles", basemap=spec, dpi=50)
        n = len(tile_server.hits)
        assert n >= 1
        import matplotlib.image as mpimg

        img = (mpimg.imread(p)[..., :3] * 255).astype(int)
        near = np.all(np.abs(img - np.array(TILE_RGB)) < 25, axis=2)
        assert near.mean() > 0.2  # the tile colour fills the map background
        render_static(layers[:2], tmp_path / "t2.png", title="tiles", basemap=spec, dpi=50)
        assert len(tile_server.hits) == n  # second time from the cache


def test_bad_tile_server_is_a_clear_error(tmp_path, tile_server):
    spec = TileSpec(tile_server.url + "/{z}/{x}/{y}.jpg", "x", "x", subdomains="")  # 404
    with set_options(cache_dir=str(tmp_path / "cache"), http_retries=0), pytest.raises(ParkscanError):
        fetch_mosaic((113.30, 23.10, 113.34, 23.13), spec)


def test_gcj02_mosaic_is_moved_back(tmp_path, tile_server, monkeypatch):
    from parkscan.aoi.datum import convert

    import parkscan.maps.tiles as tiles

    spec = TileSpec(tile_server.url + "/{z}/{x}/{y}.png", "x", "x", subdomains="")
    monkeypatch.setattr(tiles, "basemap", lambda name, lang="en": Basemap(name, (spec,), datum="gcj02" if name == "g" else "wgs84"))
    ext = (113.30, 23.10, 113.34, 23.13)
    with set_options(cache_dir=str(tmp_path / "cache"), http_retries=0):
        g = fetch_mosaic(ext, "g")
        w = fetch_mosaic(ext, "w")
    gx, gy = convert(113.32, 23.115, "wgs84", "gcj02")
    if g.zoom == w.zoom:
        dx = (g.bounds[0] - w.bounds[0])
        # GCJ tiles were requested around the shifted extent, then moved back by the offset (~500 m here)
        size = 2 * math.pi * 6378137.0 / 2 ** g.zoom
        frac = ((dx + math.radians(float(gx) - 113.32) * 6378137.0) / size) % 1.0
        assert min(frac, 1 - frac) < 1e-6
    assert abs(float(gx) - 113.32) > 1e-3


def test_unreachable_tile_server_error_keeps_the_key_out(tmp_path):
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    spec = TileSpec(f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png?tk=SECRETKEY123", "x", "x", subdomains="")
    with set_options(cache_dir=str(tmp_path / "cache"), http_retries=0), pytest.raises(ParkscanError) as info:
        fetch_mosaic((113.30, 23.10, 113.34, 23.13), spec)
    chain, err = [], info.value
    while err is not None:
        chain.append(str(err))
        err = err.__cause__ or err.__context__
    assert "could not fetch basemap tile" in chain[0]
    assert not any("SECRETKEY123" in text for text in chain)
