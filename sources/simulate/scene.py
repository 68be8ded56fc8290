"""The simulated park: boundaries, road network, enterprises, land cover before/after and the true changes.

Everything is built in a local frame (u east-ish, v north-ish, metres, origin at the park centre, rotated by a small
angle) and then placed in the park's UTM zone. Land cover lives on a 10 m north-up grid aligned to 30 m.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyproj
import shapely
from affine import Affine
from rasterio import features
from scipy import ndimage
from shapely import affinity
from shapely.geometry import LineString, Point, Polygon, box

from parkscan.aoi.park import utm_crs

from .names import INDUSTRIES, credit_code, enterprise_name, park_name
from .presets import Preset
from .spectra import CLASS_CODES

__all__ = ["Enterprise", "Change", "Road", "Scene", "build_scene"]

B, R, C, V, W, S = (CLASS_CODES[k] for k in ("built", "road", "cropland", "vegetation", "water", "bare"))


@dataclass
class Enterprise:
    """One enterprise of the park (local UTM geometry)."""

    enterprise_id: str
    name: str
    industry: str
    x: float
    """Registered coordinate (UTM), inside the plot; the emitting roofs are elsewhere in the plot."""
    y: float
    plot: Polygon
    roofs: list[Polygon]
    subpark: str | None = None


@dataclass
class Change:
    """A true land-cover change between the two image dates."""

    id: str
    kind: str
    polygon: Polygon
    from_class: str
    to_class: str


@dataclass
class Road:
    """A road segment of the network (local UTM)."""

    line: LineString
    width_m: float
    in_park: bool


@dataclass
class Scene:
    """Everything geometric about a simulated park."""

    name: str
    crs: pyproj.CRS
    lon0: float
    lat0: float
    x0: float
    y0: float
    theta_deg: float
    approved: dict[str, Polygon]
    """Sub-park name (or the park name) → approved polygon (UTM)."""
    managed: Polygon
    roads: list[Road]
    nodes: np.ndarray
    """Road-graph node coordinates (n, 2), UTM."""
    edges: list[tuple[int, int]]
    enterprises: list[Enterprise]
    changes: list[Change]
    water: list[Polygon]
    transform: Affine
    shape: tuple[int, int]
    lc_before: np.ndarray = field(repr=False)
    lc_after: np.ndarray = field(repr=False)
    objects: np.ndarray = field(repr=False)
    confounders: list[Change] = field(default_factory=list)
    """Seasonal look-alikes on the 'after' date (harvested / flooded fields) that are NOT land-cover changes."""
    apparent_after: np.ndarray | None = field(default=None, repr=False)
    """How the 'after' land cover looks on the image date (differs from ``lc_after`` at the confounders)."""

    @property
    def approved_union(self) -> Polygon:
        """Union of the approved (sub-)park polygons (UTM)."""
        return shapely.union_all(list(self.approved.values()))

    @cached_property
    def to_wgs84(self) -> pyproj.Transformer:
        """UTM → WGS-84 transformer (lon, lat order)."""
        return pyproj.Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)

    def lonlat(self, x, y):
        """UTM → WGS-84, vectorised."""
        return self.to_wgs84.transform(np.asarray(x, float), np.asarray(y, float))

    def geom_wgs84(self, geom):
        """A UTM shapely geometry in WGS-84 (coordinates rounded to 1e-7°)."""
        g = shapely.transform(geom, lambda xy: np.column_stack(self.lonlat(xy[:, 0], xy[:, 1])))
        return shapely.set_precision(g, 1e-7)


def _place(scene_xy, geom):
    theta, x0, y0 = scene_xy
    return affinity.translate(affinity.rotate(geom, theta, origin=(0, 0)), x0, y0)


def _rect(u0, v0, u1, v1):
    return box(min(u0, u1), min(v0, v1), max(u0, u1), max(v0, v1))


def build_scene(rng: np.random.Generator, preset: Preset) -> Scene:
    """Lay out a park, its surroundings and the true changes for ``preset``."""
    lon0 = 120.60 + rng.uniform(-0.04, 0.04)
    lat0 = 31.28 + rng.uniform(-0.03, 0.03)
    crs = utm_crs(lon0, lat0)
    x0, y0 = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon0, lat0)
    x0, y0 = round(x0, -1), round(y0, -1)
    theta = float(rng.uniform(-10, 10))
    frame = (theta, x0, y0)
    pname = park_name(rng)

    # --- boundaries in the local frame (u, v) -----------------------------------------------------------------
    us = [-1700.0, -1180.0, -660.0, -140.0, 380.0, 900.0]
    vs = [-1200.0, -600.0, 0.0, 600.0, 1200.0]
    if preset.n_enterprises <= 20:
        us, vs = us[1:], vs
    main = _rect(us[0], vs[0], us[-1], vs[-1]).difference(_rect(us[0] - 1, vs[-1] + 1, us[1] + 10, vs[-2] + 120))
    approved_local: dict[str, Polygon] = {}
    east_us, east_vs = [1300.0, 1800.0, 2300.0], [-600.0, 0.0, 600.0]
    if preset.subparks:
        approved_local["西区"] = main
        approved_local["东区"] = _rect(east_us[0], east_vs[0], east_us[-1], east_vs[-1])
        managed_local = shapely.union_all([main, approved_local["东区"], _rect(us[-1], east_vs[0], east_us[0], east_vs[-1]),
                                           _rect(-400, vs[-1], 1700, vs[-1] + 550), _rect(900, 600, 1700, vs[-1])])
    else:
        approved_local[pname] = main
        managed_local = shapely.union_all([main, _rect(-400, vs[-1], us[-1] + 300, vs[-1] + 500)])
    managed_local = shapely.make_valid(managed_local.buffer(0))

    # --- road graph in the local frame ---------------------------------------------------------------------------
    nodes: dict[tuple[float, float], int] = {}

    def nid(u, v):
        return nodes.setdefault((round(u, 1), round(v, 1)), len(nodes))

    edges_local: list[tuple[int, int]] = []
    for v in vs:
        row_us = list(us)
        if preset.subparks and east_vs[0] <= v <= east_vs[-1]:
            row_us += east_us
        for a, b in zip(row_us[:-1], row_us[1:]):
            if managed_local.buffer(5).contains(LineString([(a, v), (b, v)])):
                edges_local.append((nid(a, v), nid(b, v)))
    for u in us:
        for a, b in zip(vs[:-1], vs[1:]):
            if main.buffer(5).contains(LineString([(u, a), (u, b)])):
                edges_local.append((nid(u, a), nid(u, b)))
    if preset.subparks:
        for u in east_us:
            for a, b in zip(east_vs[:-1], east_vs[1:]):
                edges_local.append((nid(u, a), nid(u, b)))
    # the north extension road of the managed area
    edges_local.append((nid(-140.0, vs[-1]), nid(-140.0, vs[-1] + 450)))
    edges_local.append((nid(-140.0, vs[-1] + 450), nid(us[-1], vs[-1] + 450)))
    node_uv = np.array(sorted(nodes, key=nodes.get))
    placed = np.array([_place(frame, Point(u, v)).coords[0] for u, v in node_uv])
    roads = [Road(LineString([placed[a], placed[b]]), 20.0, True) for a, b in edges_local]
    # outer roads: a county highway south of the park and a north-south road to the west (not part of the van's graph)
    ext = 9000.0
    roads.append(Road(_place(frame, LineString([(-ext, vs[0] - 700), (ext, vs[0] - 700)])), 30.0, False))
    roads.append(Road(_place(frame, LineString([(us[0] - 600, -ext), (us[0] - 600, ext)])), 16.0, False))

    # --- enterprises in the blocks -------------------------------------------------------------------------------
    plots: list[tuple[Polygon, str]] = []
    for zone, poly in approved_local.items():
        zu, zv = (east_us, east_vs) if zone == "东区" else (us, vs)
        for ua, ub in zip(zu[:-1], zu[1:]):
            for va, vb in zip(zv[:-1], zv[1:]):
                blk = _rect(ua + 25, va + 25, ub - 25, vb - 25)
                if not poly.contains(blk):
                    continue
                mid = (ua + ub) / 2 + rng.uniform(-60, 60)
                plots.append((_rect(ua + 25, va + 25, mid - 10, vb - 25), zone))
                plots.append((_rect(mid + 10, va + 25, ub - 25, vb - 25), zone))
    order = rng.permutation(len(plots))
    n_ent = min(preset.n_enterprises, len(plots) - 2)
    required = ["热电", "钢铁", "涂装", "涂装", "化工", "化工", "纺织", "电子", "金属/电镀", "制药", "印刷"]
    # one thermal power plant and one steel works per park; the rest drawn by typical shares
    names_ind = [k for k in INDUSTRIES if k not in ("热电", "钢铁")]
    probs = np.array([INDUSTRIES[k] for k in names_ind])
    industries = required[:n_ent] + list(rng.choice(names_ind, n_ent - min(n_ent, len(required)), p=probs / probs.sum()))
    used: set[str] = set()
    enterprises: list[Enterprise] = []
    vacant: list[Polygon] = []
    for k, idx in enumerate(order):
        plot_l, zone = plots[idx]
        if k >= n_ent:
            vacant.append(plot_l)
            continue
        ind = str(industries[k])
        pu0, pv0, pu1, pv1 = plot_l.bounds
        roofs_l = []
        nroof = int(rng.integers(1, 4))
        span = (pv1 - pv0 - 40) / nroof
        for r in range(nroof):
            rv0 = pv0 + 20 + r * span + 8
            frac = rng.uniform(0.45, 0.8)
            roofs_l.append(_rect(pu0 + 20, rv0, pu0 + 20 + frac * (pu1 - pu0 - 40), rv0 + span - 16))
        # the registered coordinate is the plot (address/gate area), not the emitting roof: 30–150 m apart
        pc = plot_l.centroid
        c = _place(frame, Point(pc.x + rng.uniform(-20, 20), pc.y + rng.uniform(-20, 20)))
        enterprises.append(Enterprise(credit_code(rng), enterprise_name(rng, ind, used), ind, c.x, c.y,
                                      _place(frame, plot_l), [_place(frame, p) for p in roofs_l],
                                      zone if preset.subparks else None))

    # --- grid ------------------------------------------------------------------------------------------------------
    managed = _place(frame, managed_local)
    approved = {k: _place(frame, p) for k, p in approved_local.items()}
    minx, miny, maxx, maxy = managed.buffer(preset.ring_m).bounds
    left, bottom = math.floor(minx / 30) * 30, math.floor(miny / 30) * 30
    right, top = math.ceil(maxx / 30) * 30, math.ceil(maxy / 30) * 30
    transform = Affine(10.0, 0, left, 0, -10.0, top)
    shape = (int(round((top - bottom) / 10)), int(round((right - left) / 10)))

    def burn(lc, geoms, value):
        geoms = [g for g in geoms if not g.is_empty]
        if geoms:
            m = features.rasterize([(g, 1) for g in geoms], out_shape=shape, transform=transform, dtype="uint8",
                                   all_touched=False)
            lc[m == 1] = value

    # --- background land cover: field parcels, tree patches, canals, ponds, villages ------------------------------
    rows, cols = np.indices(shape)
    fu = ((cols * 10 * math.cos(math.radians(theta)) + rows * 10 * math.sin(math.radians(theta))) // 110).astype(np.int64)
    fv = ((rows * 10 * math.cos(math.radians(theta)) - cols * 10 * math.sin(math.radians(theta))) // 70).astype(np.int64)
    objects = (fu - fu.min()) * (fv.max() - fv.min() + 1) + (fv - fv.min()) + 1
    lc = np.full(shape, C, np.uint8)
    patch = ndimage.gaussian_filter(rng.standard_normal(shape), 12)
    lc[patch > np.percentile(patch, 88)] = V
    water: list[Polygon] = []
    canal = _place(frame, LineString([(-ext, vs[0] - 380), (0, vs[0] - 300 + rng.uniform(-60, 60)), (ext, vs[0] - 420)]))
    water.append(canal.buffer(22))
    canal2 = _place(frame, LineString([(us[-1] + 180, -ext), (us[-1] + 200, ext)])) if not preset.subparks else \
        _place(frame, LineString([(east_us[-1] + 260, -ext), (east_us[-1] + 240, ext)]))
    water.append(canal2.buffer(15))
    for _ in range(4):
        pu, pv = rng.uniform(us[0] - 1200, us[0] - 300), rng.uniform(-1000, 1000)
        water.append(_place(frame, _rect(pu, pv, pu + rng.uniform(60, 120), pv + rng.uniform(40, 80))))
    burn(lc, [w.buffer(12) for w in water[:2]], V)  # tree rows along canals
    burn(lc, water, W)
    for vu, vv in ((us[0] - 700, 900), (us[-1] + 400 if not preset.subparks else east_us[-1] + 600, -900),
                   (0, vs[0] - 1000), (-800, vs[-1] + 900)):
        vp = _rect(vu - 110, vv - 90, vu + 110, vv + 90)
        houses = [_rect(vu + i * 40 - 100, vv + j * 35 - 80, vu + i * 40 - 75, vv + j * 35 - 62)
                  for i in range(5) for j in range(5) if rng.random() < 0.7]
        burn(lc, [_place(frame, vp)], V)
        burn(lc, [_place(frame, h) for h in houses], B)
    # --- inside the park ------------------------------------------------------------------------------------------
    burn(lc, [g.buffer(-1) for g in approved.values()], V)
    burn(lc, [_place(frame, p) for p, _ in plots], S)
    for p in vacant:
        burn(lc, [_place(frame, p)], C if rng.random() < 0.5 else V)
    for e in enterprises:
        burn(lc, [e.plot.buffer(-8)], R)
        burn(lc, e.roofs, B)
    roof_id = np.zeros(shape, np.int64)
    allroofs = [r for e in enterprises for r in e.roofs]
    if allroofs:
        roof_id = features.rasterize([(r, i + 1) for i, r in enumerate(allroofs)], out_shape=shape, transform=transform,
                                     dtype="int32").astype(np.int64)
    objects = np.where(roof_id > 0, objects.max() + roof_id, objects)
    for rd in roads:
        burn(lc, [rd.line.buffer(rd.width_m / 2, cap_style="flat")], R)

    # --- true changes between the dates ----------------------------------------------------------------------------
    changes: list[Change] = []
    after = lc.copy()

    def change(kind, poly_l, to):
        poly = _place(frame, poly_l)
        m = features.rasterize([(poly, 1)], out_shape=shape, transform=transform, dtype="uint8") == 1
        vals, counts = np.unique(lc[m], return_counts=True)
        frm = {v: k for k, v in CLASS_CODES.items()}[int(vals[np.argmax(counts)])]
        after[m & (lc != W) & (lc != R)] = to
        changes.append(Change(f"C{len(changes) + 1}", kind, poly, frm, {v: k for k, v in CLASS_CODES.items()}[to]))

    top_v = vs[-1]
    # 1. construction inside the managed boundary but outside the approved one (north extension)
    change("construction_managed_outside_approved", _rect(200, top_v + 40, 200 + 260, top_v + 40 + 190), B)
    # 2. construction outside both boundaries (west of the park, on farmland)
    cu = us[0] - 420
    change("construction_outside_both", _rect(cu - 120, -300, cu + 120, -300 + 170), B)
    # 3. farmland stripped to bare soil (a site being prepared) south of the park, outside the approved boundary
    change("soil_exposed", _rect(-1000, vs[0] - 220, -1000 + 230, vs[0] - 60), S)
    if preset.subparks:
        # 4. bare soil inside the managed-only strip between the sub-parks
        change("soil_exposed", _rect(us[-1] + 80, -450, us[-1] + 320, -450 + 160), S)
    if vacant:
        # 5. legal construction on a vacant plot inside the approved boundary
        vp = vacant[0]
        change("construction_inside_approved", vp.buffer(-25), B)
    if preset.name == "hard":
        # 6. a small village expansion onto farmland (near the minimum mapping unit)
        change("construction_outside_both", _rect(us[0] - 700 + 120, 900 - 60, us[0] - 700 + 210, 900 + 20), B)
    scene = Scene(pname, crs, float(lon0), float(lat0), float(x0), float(y0), theta, approved, managed, roads, placed,
                  edges_local, enterprises, changes, water, transform, shape, lc, after, objects)
    if preset.name == "hard":
        _add_confounders(scene, rng, n=4)
    return scene


def _add_confounders(scene: Scene, rng: np.random.Generator, *, n: int) -> None:
    """Mark a few farm fields far from the park as harvested (looks bare) or flooded (looks like water)."""
    from rasterio.features import shapes

    busy = scene.managed.buffer(400)
    for ch in scene.changes:
        busy = busy.union(ch.polygon.buffer(200))
    apparent = scene.lc_after.copy()
    crop = np.argwhere(scene.lc_after == C)
    tries = 0
    while len(scene.confounders) < n and tries < 500:
        tries += 1
        r, c = crop[int(rng.integers(len(crop)))]
        m = (scene.objects == scene.objects[r, c]) & (scene.lc_before == C) & (scene.lc_after == C)
        if m.sum() < 40:
            continue
        poly = shapely.union_all([shapely.geometry.shape(g) for g, v in shapes(m.astype("uint8"), mask=m,
                                                                             transform=scene.transform) if v == 1])
        if poly.intersects(busy):
            continue
        kind, look = ("harvested_field", S) if len(scene.confounders) % 2 == 0 else ("flooded_paddy", W)
        apparent[m] = look
        busy = busy.union(poly.buffer(300))
        scene.confounders.append(Change(f"F{len(scene.confounders) + 1}", kind, poly, "cropland", "cropland"))
    scene.apparent_after = apparent

