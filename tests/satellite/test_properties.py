"""Property tests of the footprint weighting (Hypothesis)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from parkscan.aoi import Park
from parkscan.models.satellite.no2 import _weights_gaussian, _weights_polygon

PARK = Park(id="p", name="p", approved=box(120.58, 31.28, 120.62, 31.32))
GRID = PARK.grid(500, ring_m=10000)


def _quad(cx, cy, w, h, angle):
    a = np.radians(angle)
    ux, uy = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    pts = [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)]
    xs = np.array([cx + i * w * ux[0] + j * h * uy[0] for i, j in pts])
    ys = np.array([cy + i * w * ux[1] + j * h * uy[1] for i, j in pts])
    return xs, ys


def _window(xs, ys, pad=1):
    res = GRID.res
    x0 = np.floor((xs.min() - GRID.transform.c) / res).astype(int) - pad
    y0 = np.floor((GRID.transform.f - ys.max()) / res).astype(int) - pad
    kw = int(np.ceil(np.ptp(xs) / res)) + 2 * pad + 1
    kh = int(np.ceil(np.ptp(ys) / res)) + 2 * pad + 1
    return np.array([x0]), np.array([y0]), kh, kw


@settings(max_examples=40, deadline=None)
@given(dx=st.floats(-3000, 3000), dy=st.floats(-3000, 3000), w=st.floats(2000, 7000), h=st.floats(2000, 7000),
       angle=st.floats(-40, 40))
def test_polygon_overlap_conserves_area_and_matches_shapely(dx, dy, w, h, angle):
    c = PARK.to_local(PARK.footprint).centroid
    xs, ys = _quad(c.x + dx, c.y + dy, w, h, angle)
    x0, y0, kh, kw = _window(xs, ys)
    frac, area = _weights_polygon(xs[None], ys[None], GRID, x0, y0, kh, kw, 8)
    cell = GRID.res**2
    assert area[0] == np.float64(area[0]) and abs(area[0] - w * h) / (w * h) < 1e-9
    # sub-sampling error only: with n×n sample points per cell, each edge is off by at most half a sub-step
    # times its length (reached when an edge runs through a row of sample points)
    bound = 2 * (w + h) * (GRID.res / 8) / 2
    assert abs(frac.sum() * cell - w * h) <= bound * (1 + 1e-9)
    # per cell, against the exact polygon intersection of shapely
    poly = Polygon(np.column_stack([xs, ys]))
    r, k = np.unravel_index(np.argmax(frac[0]), frac[0].shape)
    left = GRID.transform.c + GRID.res * (x0[0] + k)
    top = GRID.transform.f - GRID.res * (y0[0] + r)
    exact = poly.intersection(box(left, top - GRID.res, left + GRID.res, top)).area / cell
    assert abs(frac[0, r, k] - exact) < 0.1


@settings(max_examples=25, deadline=None)
@given(w=st.floats(3000, 7000), h=st.floats(3000, 7000), angle=st.floats(-30, 30))
def test_gaussian_response_is_normalised_to_the_pixel_area(w, h, angle):
    c = PARK.to_local(PARK.footprint).centroid
    xs, ys = _quad(c.x, c.y, w, h, angle)
    x0, y0, kh, kw = _window(xs, ys, pad=int(np.ceil(0.6 * max(np.ptp(xs), np.ptp(ys)) / GRID.res)))
    frac, area = _weights_gaussian(xs[None], ys[None], GRID, x0, y0, kh, kw)
    assert abs(frac.sum() * GRID.res**2 - area[0]) / area[0] < 1e-6
    # flat top: the centre cell has (nearly) the full weight, a cell two pixel-widths away almost none
    assert frac.max() > 0.9
