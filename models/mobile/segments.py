"""Road segments (~30 m) built from the tracks themselves, with per-segment medians over passes.

No road data are needed: the driven fixes are thinned to seeds at least ``spacing_m`` apart, in driving
order (a greedy Poisson-disc sampling of the route), and every fix belongs to its nearest seed. A *pass* is
one uninterrupted visit of a segment (same trip, no gap longer than ``pass_gap_s``). Each segment value is
the median over passes of the per-pass medians, so a van stuck at a light counts once; segments with fewer
than ``min_passes`` passes are flagged low reliability (maps from one or two drives are unreliable:
Messier et al. 2018, *Environ. Sci. Technol.* 52, 12563; Apte et al. 2017 used ~30 m segments).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyproj
from scipy.spatial import cKDTree

from parkscan.aoi.errors import ModelError

__all__ = ["Segments", "build_segments", "local_crs", "seed_route", "seeds_from_roads"]


def local_crs(lon: np.ndarray, lat: np.ndarray) -> pyproj.CRS:
    """The UTM zone of the median position."""
    from parkscan.aoi.park import utm_crs

    return utm_crs(float(np.nanmedian(lon)), float(np.nanmedian(lat)))


@dataclass
class Segments:
    """Segments, the point → segment assignment and the passes."""

    table: pd.DataFrame
    """One row per segment: segment_id, x, y, lon, lat, lon0, lat0, lon1, lat1, length_m, n_points, n_passes,
    reliable, and per pollutant ``<p>`` (median over passes of the pass medians), ``<p>_n`` (passes with values)
    and ``ex_<p>`` (same for the excess over background) when present."""
    point_segment: np.ndarray
    """Segment index of each point (-1 for points not mapped)."""
    point_pass: np.ndarray
    """Pass id of each point (-1 for points not mapped)."""
    crs: pyproj.CRS
    """Metric CRS of x, y."""
    spacing_m: float
    """Seed spacing."""
    min_passes: int
    """Reliability threshold."""


def seed_route(x: np.ndarray, y: np.ndarray, spacing_m: float) -> np.ndarray:
    """Seeds at least ``spacing_m`` apart covering every fix within ``spacing_m`` (greedy, in driving order).

    Fixes are first reduced to distinct cells of ``spacing_m / 4`` (so the loop runs over route cells, not
    fixes), then a cell becomes a seed when no seed lies within ``spacing_m`` in the 3×3 neighbourhood of
    coarse cells.
    """
    fine = spacing_m / 4.0
    cx = np.floor(x / fine).astype(np.int64)
    cy = np.floor(y / fine).astype(np.int64)
    key = cx * 4_000_003 + cy
    _, first = np.unique(key, return_index=True)
    first.sort()  # driving order of first visit
    px = (cx[first] + 0.5) * fine
    py = (cy[first] + 0.5) * fine
    grid: dict[tuple[int, int], list[int]] = {}
    seeds_x: list[float] = []
    seeds_y: list[float] = []
    s2 = spacing_m * spacing_m
    gx = np.floor(px / spacing_m).astype(np.int64).tolist()
    gy = np.floor(py / spacing_m).astype(np.int64).tolist()
    pxl, pyl = px.tolist(), py.tolist()
    for i in range(len(pxl)):
        a, b, xi, yi = gx[i], gy[i], pxl[i], pyl[i]
        near = False
        for da in (-1, 0, 1):
            for db in (-1, 0, 1):
                for j in grid.get((a + da, b + db), ()):
                    dx = seeds_x[j] - xi
                    dy = seeds_y[j] - yi
                    if dx * dx + dy * dy < s2:
                        near = True
                        break
                if near:
                    break
            if near:
                break
        if not near:
            grid.setdefault((a, b), []).append(len(seeds_x))
            seeds_x.append(xi)
            seeds_y.append(yi)
    return np.column_stack([seeds_x, seeds_y])


def seeds_from_roads(roads, crs: pyproj.CRS, spacing_m: float = 30.0) -> np.ndarray:
    """Seeds every ``spacing_m`` along road lines (a GeoDataFrame, or a file readable by geopandas, e.g. an OSM extract).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> g = gpd.GeoDataFrame(geometry=[LineString([(500000, 3460000), (500300, 3460000)])], crs=32651)
    >>> len(seeds_from_roads(g, pyproj.CRS.from_epsg(32651)))
    11
    """
    import geopandas as gpd
    import shapely

    import pyogrio.errors

    label = "the road table" if isinstance(roads, gpd.GeoDataFrame) else str(roads)
    if not isinstance(roads, gpd.GeoDataFrame):
        try:
            roads = gpd.read_file(roads)
        except (OSError, ValueError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
            raise ModelError(f"{roads}: cannot read the road file ({err}); give road lines as GeoJSON, GeoPackage or "
                             "Shapefile") from err
    if roads.crs is None:
        roads = roads.set_crs(4326)
    lines = [g for g in roads.to_crs(crs).geometry if g is not None and g.geom_type in ("LineString", "MultiLineString")]
    if not lines:
        raise ModelError(f"{label}: holds no (Multi)LineString; give road lines, not points or polygons")
    pts = []
    for geom in lines:
        for part in getattr(geom, "geoms", [geom]):
            n = max(1, int(round(part.length / spacing_m)))
            pts.append(shapely.get_coordinates(shapely.line_interpolate_point(part, np.linspace(0, part.length, n + 1))))
    return np.unique(np.round(np.vstack(pts), 1), axis=0)


def build_segments(points: pd.DataFrame, pollutants, *, crs: pyproj.CRS | None = None, spacing_m: float = 30.0,
                   pass_gap_s: float = 60.0, min_passes: int = 4, seeds: np.ndarray | None = None) -> Segments:
    """Build segments from the mappable fixes and aggregate each pollutant over passes.

    Parameters
    ----------
    points : DataFrame
        ``lon``, ``lat``, ``t``, ``trip``, ``mappable`` and pollutant columns (optionally ``ex_<p>``), or
        ``x``/``y`` already in ``crs``.
    pollutants : sequence of str
        Columns to aggregate.
    crs : pyproj.CRS, optional
        Metric CRS (default: UTM zone of the track).
    spacing_m : float
        Segment length (seed spacing), metres.
    pass_gap_s : float
        A time gap longer than this inside a segment starts a new pass.
    min_passes : int
        Segments with fewer passes have ``reliable = False``.
    seeds : ndarray, optional
        Precomputed seed coordinates (e.g. :func:`seeds_from_roads`, or another campaign on the same roads);
        fixes farther than ``spacing_m`` from every seed are then left unmapped.

    Examples
    --------
    >>> t = np.arange(0.0, 200.0)
    >>> pts = pd.DataFrame({"x": t * 10, "y": 0.0, "t": t, "trip": "a", "mappable": True, "no2": 1.0})
    >>> s = build_segments(pts, ["no2"], crs=pyproj.CRS.from_epsg(32651))
    >>> len(s.table), int(s.table["n_passes"].max())
    (67, 1)
    """
    mapp = points["mappable"].to_numpy(bool)
    if not mapp.any():
        raise ModelError("no mappable fix (all rows flagged or stationary): no segment can be built")
    if "x" in points and "y" in points:
        x, y = points["x"].to_numpy(float), points["y"].to_numpy(float)
        crs = crs or local_crs(points["lon"].to_numpy(), points["lat"].to_numpy())
    else:
        crs = crs or local_crs(points["lon"].to_numpy()[mapp], points["lat"].to_numpy()[mapp])
        tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        x, y = tr.transform(points["lon"].to_numpy(float), points["lat"].to_numpy(float))
    idx = np.flatnonzero(mapp & np.isfinite(x) & np.isfinite(y))
    xm, ym = x[idx], y[idx]
    given = seeds is not None
    if seeds is None:
        seeds = seed_route(xm, ym, spacing_m)
    dist, seg = cKDTree(seeds).query(np.column_stack([xm, ym]))
    if given:
        near = dist <= spacing_m
        if not near.any():
            raise ModelError(f"no fix lies within {spacing_m:g} m of the given roads: wrong road file or datum?")
        idx, xm, ym, seg = idx[near], xm[near], ym[near], seg[near]
        used, seg = np.unique(seg, return_inverse=True)
        seeds = seeds[used]
    nseg = len(seeds)
    # passes: sort by (segment, trip, time); new pass on change or gap
    t = points["t"].to_numpy(float)[idx]
    trip = pd.factorize(points["trip"].to_numpy()[idx])[0]
    order = np.lexsort((t, trip, seg))
    s_o, tr_o, t_o = seg[order], trip[order], t[order]
    new = np.ones(len(order), bool)
    new[1:] = (s_o[1:] != s_o[:-1]) | (tr_o[1:] != tr_o[:-1]) | (np.diff(t_o) > pass_gap_s)
    pass_o = np.cumsum(new) - 1
    pass_id = np.empty(len(order), np.int64)
    pass_id[order] = pass_o
    point_segment = np.full(len(points), -1, np.int64)
    point_pass = np.full(len(points), -1, np.int64)
    point_segment[idx] = seg
    point_pass[idx] = pass_id
    # geometry: centroid and principal axis of each segment's fixes
    n = np.bincount(seg, minlength=nseg).astype(float)
    mx = np.bincount(seg, xm, nseg) / np.maximum(n, 1)
    my = np.bincount(seg, ym, nseg) / np.maximum(n, 1)
    dx, dy = xm - mx[seg], ym - my[seg]
    sxx = np.bincount(seg, dx * dx, nseg) / np.maximum(n, 1)
    syy = np.bincount(seg, dy * dy, nseg) / np.maximum(n, 1)
    sxy = np.bincount(seg, dx * dy, nseg) / np.maximum(n, 1)
    theta = 0.5 * np.arctan2(2 * sxy, sxx - syy)
    lam = 0.5 * (sxx + syy) + np.sqrt(0.25 * (sxx - syy) ** 2 + sxy ** 2)
    half = np.clip(np.sqrt(3 * lam), 3.0, spacing_m)
    x0, y0 = mx - half * np.cos(theta), my - half * np.sin(theta)
    x1, y1 = mx + half * np.cos(theta), my + half * np.sin(theta)
    inv = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = inv.transform(mx, my)
    lon0, lat0 = inv.transform(x0, y0)
    lon1, lat1 = inv.transform(x1, y1)
    n_passes = np.bincount(s_o[new], minlength=nseg)
    table = pd.DataFrame({
        "segment_id": np.arange(nseg), "x": mx, "y": my, "lon": lon, "lat": lat, "lon0": lon0, "lat0": lat0, "lon1": lon1,
        "lat1": lat1, "length_m": 2 * half, "n_points": n.astype(int), "n_passes": n_passes,
    })
    table["reliable"] = table["n_passes"] >= min_passes
    cols = [c for p in pollutants for c in (p, f"ex_{p}") if c in points]
    if cols:
        vals = points[cols].to_numpy(float)[idx]
        per_pass = pd.DataFrame(vals, columns=cols)
        per_pass["seg"] = seg
        per_pass["pass"] = pass_id
        pm = per_pass.groupby(["seg", "pass"], sort=False)[cols].median()
        seg_of_pass = pm.index.get_level_values(0).to_numpy()
        agg = pm.groupby(seg_of_pass).median()
        cnt = pm.notna().groupby(seg_of_pass).sum()
        for c in cols:
            table[c] = agg[c].reindex(table.index).to_numpy()
            if not c.startswith("ex_"):
                table[f"{c}_n"] = cnt[c].reindex(table.index).fillna(0).astype(int).to_numpy()
    return Segments(table=table, point_segment=point_segment, point_pass=point_pass, crs=crs, spacing_m=spacing_m, min_passes=min_passes)
