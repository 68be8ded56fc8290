"""The site-visit list: ranked enterprises/zones, coordinates for Chinese navigation apps, a visit order.

The visit order is a short route from the park entrance (or a given start point): greedy
nearest-neighbour tours, improved by 2-opt and Or-opt moves on the open path (start fixed, end
free), on distances in the park's local metric CRS. The park entrance is the point of the approved
boundary nearest to the park's main road (``park.metadata["main_road"]``: a WGS-84 shapely
geometry or WKT), or nearest to the park centroid when no road is known;
``park.metadata["entrance"] = (lon, lat)`` or ``start=(lon, lat)`` overrides it.
"""
from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np
import pandas as pd
import shapely
from shapely.ops import nearest_points

from .csvsafe import write_csv
from .ranking import RankedItem, Weights

__all__ = ["COLUMNS", "site_visits", "entrance", "visit_route", "write_csv", "route_length_m"]

log = logging.getLogger(__name__)

COLUMNS = [
    "rank", "visit_order", "type", "enterprise_id", "name", "industry", "score", "confidence", "reasons", "evidence",
    "not_assessed", "lon_wgs84", "lat_wgs84", "lon_gcj02", "lat_gcj02", "lon_bd09", "lat_bd09",
]
"""Columns of site_visits.csv (``enterprise_id`` holds the zone id for zones)."""

_ZONE = {"en": "Grid zone", "zh": "网格区"}


def entrance(park, start: tuple[float, float] | None = None) -> tuple[float, float]:
    """WGS-84 (lon, lat) where the route starts (see the module docstring)."""
    if start is None:
        start = park.metadata.get("entrance") if hasattr(park.metadata, "get") else None
    if start is not None:
        lon, lat = (float(v) for v in start)
        return lon, lat
    boundary = park.to_local(park.approved).boundary
    road = park.metadata.get("main_road") if hasattr(park.metadata, "get") else None
    target = None
    if road is not None:
        try:
            geom = shapely.from_wkt(road) if isinstance(road, str) else road
            if not geom.is_empty:
                target = park.to_local(geom)
        except (shapely.errors.GEOSException, AttributeError, TypeError) as err:
            log.warning("park main_road %r is not a geometry (%s); starting from the boundary point nearest the centroid", road, err)
    if target is None:
        target = park.to_local(park.approved).centroid
    p = nearest_points(boundary, target)[0]
    lon, lat = park.xy_to_lonlat(p.x, p.y)
    return float(lon), float(lat)


def route_length_m(xy: np.ndarray, order: Sequence[int], start_xy: np.ndarray) -> float:
    """Length of the open path start → order[0] → order[1] → … in metres."""
    pts = np.vstack([start_xy[None, :], xy[list(order)]])
    return float(np.sum(np.hypot(*np.diff(pts, axis=0).T)))


def _two_opt_or_opt(path: list[int], d: np.ndarray) -> list[int]:
    """Improve an open path (node path[0] fixed, end free) by 2-opt reversals and Or-opt moves."""
    n = len(path)
    improved = True
    while improved:
        improved = False
        for i in range(1, n - 1):  # 2-opt: reverse path[i..k]
            for k in range(i + 1, n):
                a, b, c = path[i - 1], path[i], path[k]
                nxt = path[k + 1] if k + 1 < n else None
                delta = d[a, c] - d[a, b] + ((d[b, nxt] - d[c, nxt]) if nxt is not None else 0.0)
                if delta < -1e-9:
                    path[i:k + 1] = path[i:k + 1][::-1]
                    improved = True
        for seg in (1, 2, 3):  # Or-opt: move a run of 1-3 stops elsewhere (either direction)
            for i in range(1, n - seg + 1):
                run = path[i:i + seg]
                prev, nxt = path[i - 1], (path[i + seg] if i + seg < n else None)
                gain = d[prev, run[0]] + (d[run[-1], nxt] - d[prev, nxt] if nxt is not None else 0.0)
                rest = path[:i] + path[i + seg:]
                done = False
                for j in range(1, len(rest) + 1):
                    if j == i:
                        continue
                    a, b = rest[j - 1], (rest[j] if j < len(rest) else None)
                    for r in (run, run[::-1]):
                        add = d[a, r[0]] + (d[r[-1], b] - d[a, b] if b is not None else 0.0)
                        if add < gain - 1e-9:
                            path[:] = rest[:j] + r + rest[j:]
                            improved = done = True
                            break
                    if done:
                        break
                if done:
                    break
            if improved:
                break
    return path


def visit_route(xy: np.ndarray, start_xy: np.ndarray) -> list[int]:
    """Visit order of points ``xy`` (n, 2) from ``start_xy``: a short open route.

    Nearest-neighbour tours started towards each of the (up to 8) closest stops, each improved
    by 2-opt and Or-opt; the shortest wins (deterministic; ties broken by index).

    Returns
    -------
    list of int
        Indices into ``xy`` in visiting order.

    Examples
    --------
    >>> import numpy as np
    >>> visit_route(np.array([[3.0, 0], [1.0, 0], [2.0, 0]]), np.array([0.0, 0]))
    [1, 2, 0]
    """
    n = len(xy)
    if n == 0:
        return []
    pts = np.vstack([np.asarray(start_xy, float)[None, :], np.asarray(xy, float)])  # node 0 = start
    d = np.hypot(pts[:, None, 0] - pts[None, :, 0], pts[:, None, 1] - pts[None, :, 1])
    best: list[int] | None = None
    best_len = np.inf
    for first in [int(j) + 1 for j in np.argsort(d[0, 1:], kind="stable")[:8]]:
        path = [0, first]
        left = [j for j in range(1, n + 1) if j != first]
        while left:
            cur = path[-1]
            j = min(left, key=lambda q: (d[cur, q], q))
            path.append(j)
            left.remove(j)
        path = _two_opt_or_opt(path, d)
        total = float(sum(d[a, b] for a, b in zip(path[:-1], path[1:])))
        if total < best_len - 1e-9:
            best, best_len = path, total
    return [p - 1 for p in best[1:]]


def _convert(lon: np.ndarray, lat: np.ndarray, dst: str) -> tuple[np.ndarray, np.ndarray]:
    from parkscan.aoi.datum import convert

    x, y = convert(lon, lat, "wgs84", dst)
    return np.asarray(x, float), np.asarray(y, float)


def site_visits(
    park,
    ranking: Sequence[RankedItem],
    *,
    weights: Weights,
    lang: str = "en",
    start: tuple[float, float] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The site-visit table and its route.

    Parameters
    ----------
    park : Park
        The park (for the entrance and the metric CRS).
    ranking : sequence of RankedItem
        From :func:`parkscan.diagnostics.ranking.rank`.
    weights : Weights
        ``min_visit_score`` and ``max_site_visits`` select the items to visit.
    lang : str
        Language of names of zones and of the reasons.
    start : (lon, lat), optional
        Where the route starts (default: the park entrance).

    Returns
    -------
    (DataFrame, dict)
        The table (columns :data:`COLUMNS`, one row per visit in rank order) and the route
        (``start`` lon/lat, ``order`` of ids, ``length_m``).
    """
    chosen = [it for it in ranking if it.score >= weights.min_visit_score and it.score > 0][: weights.max_site_visits]
    s_lon, s_lat = entrance(park, start)
    route: dict[str, Any] = {"start": [round(s_lon, 7), round(s_lat, 7)], "order": [], "length_m": 0.0}
    if not chosen:
        return pd.DataFrame(columns=COLUMNS), route
    lon = np.array([it.lon for it in chosen], float)
    lat = np.array([it.lat for it in chosen], float)
    x, y = park.lonlat_to_xy(lon, lat)
    xy = np.column_stack([x, y])
    sx, sy = park.lonlat_to_xy(s_lon, s_lat)
    start_xy = np.array([float(sx), float(sy)])
    order = visit_route(xy, start_xy)
    visit_no = np.empty(len(chosen), int)
    visit_no[order] = np.arange(1, len(order) + 1)
    glon, glat = _convert(lon, lat, "gcj02")
    blon, blat = _convert(lon, lat, "bd09")
    rows = []
    for i, it in enumerate(chosen):
        name = it.name if it.item_type == "enterprise" else f"{_ZONE.get(lang, _ZONE['en'])} {it.item_id}"
        rows.append({
            "rank": it.rank, "visit_order": int(visit_no[i]), "type": it.item_type, "enterprise_id": it.item_id,
            "name": name, "industry": it.industry or "", "score": round(it.score, 4), "confidence": round(it.confidence, 4),
            "reasons": " | ".join(it.reasons.get(lang, it.reasons.get("en", ()))), "evidence": it.evidence,
            "not_assessed": ";".join(it.not_assessed),
            "lon_wgs84": round(float(lon[i]), 7), "lat_wgs84": round(float(lat[i]), 7),
            "lon_gcj02": round(float(glon[i]), 7), "lat_gcj02": round(float(glat[i]), 7),
            "lon_bd09": round(float(blon[i]), 7), "lat_bd09": round(float(blat[i]), 7),
        })
    route["order"] = [chosen[j].item_id for j in order]
    route["length_m"] = round(route_length_m(xy, order, start_xy), 1)
    return pd.DataFrame(rows, columns=COLUMNS), route
