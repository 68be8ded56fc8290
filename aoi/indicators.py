"""Boundary-confusion indicators of a park: approved vs managed area, sub-park spread, enterprises outside."""
from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import shapely

from .park import Park

__all__ = ["boundary_indicators"]


def _ha(geom) -> float:
    return float(geom.area) / 1e4


def boundary_indicators(park: Park) -> dict[str, Any]:
    """Indicators of boundary confusion ("one zone, many parks", managed ≠ approved).

    Parameters
    ----------
    park : Park
        A park; areas are computed in its local metric CRS (``park.crs``).

    Returns
    -------
    dict
        ``approved_ha``; ``managed_ha``, ``managed_outside_approved_ha``,
        ``managed_outside_approved_pct`` (% of the managed area), ``approved_not_managed_ha``,
        ``approved_not_managed_pct`` (% of the approved area) — None without a managed boundary;
        ``n_approved_parts`` (separate polygons of the approved boundary); ``n_subparks`` (distinct
        sub-park names); ``subpark_max_distance_km`` (largest distance between sub-park centroids,
        0 for one); ``convex_hull_ratio`` (convex-hull area of the footprint / footprint area: 1 for a
        compact park, large for scattered parts); ``n_enterprises``,
        ``enterprises_outside_approved`` and ``enterprises_outside_footprint`` (None without
        enterprises); ``approximate`` (a circle from a point table).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> p = Park(id="P", name="P", approved=box(120.60, 31.30, 120.63, 31.33),
    ...          managed=box(120.61, 31.30, 120.65, 31.33))
    >>> ind = boundary_indicators(p)
    >>> round(ind["managed_outside_approved_pct"])
    50
    """
    a = park.to_local(park.approved)
    m = park.to_local(park.managed) if park.managed is not None else None
    fp = park.to_local(park.footprint)
    out: dict[str, Any] = {"approved_ha": _ha(a)}
    if m is not None:
        outside = _ha(m.difference(a))
        not_managed = _ha(a.difference(m))
        out.update({
            "managed_ha": _ha(m),
            "managed_outside_approved_ha": outside,
            "managed_outside_approved_pct": 100.0 * outside / _ha(m) if m.area > 0 else 0.0,
            "approved_not_managed_ha": not_managed,
            "approved_not_managed_pct": 100.0 * not_managed / _ha(a) if a.area > 0 else 0.0,
        })
    else:
        out.update({k: None for k in ("managed_ha", "managed_outside_approved_ha", "managed_outside_approved_pct",
                                      "approved_not_managed_ha", "approved_not_managed_pct")})
    out["footprint_ha"] = _ha(fp)
    out["n_approved_parts"] = int(len(shapely.get_parts(a)))
    names: dict[str, list] = {}
    for sp in park.subparks:
        names.setdefault(sp.name, []).append(park.to_local(sp.geometry))
    out["n_subparks"] = len(names)
    cents = [shapely.union_all(g).centroid for g in names.values()]
    dmax = max((p.distance(q) for p, q in itertools.combinations(cents, 2)), default=0.0)
    out["subpark_max_distance_km"] = float(dmax) / 1000.0
    out["convex_hull_ratio"] = float(fp.convex_hull.area / fp.area) if fp.area > 0 else math.nan
    ent = park.enterprises
    if ent is not None and len(ent):
        x, y = park.lonlat_to_xy(ent["lon"].to_numpy(float), ent["lat"].to_numpy(float))
        inside_a = shapely.contains_xy(a, x, y) | shapely.intersects_xy(a.boundary, x, y)
        inside_fp = shapely.contains_xy(fp, x, y) | shapely.intersects_xy(fp.boundary, x, y)
        out["n_enterprises"] = int(len(ent))
        out["enterprises_outside_approved"] = int(np.sum(~inside_a))
        out["enterprises_outside_footprint"] = int(np.sum(~inside_fp))
        ids = ent["enterprise_id"].astype(str).to_numpy() if "enterprise_id" in ent else np.arange(len(ent)).astype(str)
        out["enterprises_outside_approved_ids"] = ids[~inside_a].tolist()
    else:
        out.update({"n_enterprises": 0 if ent is not None else None, "enterprises_outside_approved": None,
                    "enterprises_outside_footprint": None, "enterprises_outside_approved_ids": []})
    out["approximate"] = bool(park.metadata.get("approximate", False))
    return out
