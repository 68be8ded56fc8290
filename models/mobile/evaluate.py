"""Evaluating the mobile analysis against known truth (the simulator's truth.json), and the naive baseline.

The naive baseline ranks enterprises by the *highest raw readings*: every fix gets its largest
reading relative to that pollutant's median, fixes are taken from the highest down, and each one names the
enterprise nearest to it (within ``max_dist_m``); the ranking is the order in which enterprises are first
named. Its hotspot locations are the highest fixes at least ``min_sep_m`` apart.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

__all__ = ["naive_ranking", "naive_locations", "topk_scores", "localisation_errors"]


def _ratio(points: pd.DataFrame, pollutants) -> np.ndarray:
    ok = points["valid"].to_numpy()
    r = np.full(len(points), -np.inf)
    for p in pollutants:
        v = points[p].to_numpy(float)
        med = np.nanmedian(v[ok]) if np.isfinite(v[ok]).any() else np.nan
        if not np.isfinite(med) or med <= 0:
            continue
        r = np.fmax(r, np.where(ok & np.isfinite(v), v / med, -np.inf))
    return r


def naive_ranking(points: pd.DataFrame, pollutants, ent_x: np.ndarray, ent_y: np.ndarray, ent_ids, *, max_dist_m: float = 2000.0) -> list[str]:
    """Enterprise ids in the order the highest raw readings name them (nearest enterprise to each fix)."""
    r = _ratio(points, pollutants)
    order = np.argsort(-r)
    order = order[np.isfinite(r[order])]
    if len(ent_x) == 0:
        return []
    d, j = cKDTree(np.column_stack([ent_x, ent_y])).query(np.column_stack([points["x"].to_numpy()[order], points["y"].to_numpy()[order]]))
    j = j[d <= max_dist_m]
    _, first = np.unique(j, return_index=True)
    ranked = j[np.sort(first)]
    ids = np.asarray(ent_ids)
    return [str(ids[i]) for i in ranked]


def naive_locations(points: pd.DataFrame, pollutants, k: int, *, min_sep_m: float = 200.0) -> np.ndarray:
    """x/y of the ``k`` highest raw readings at least ``min_sep_m`` apart."""
    r = _ratio(points, pollutants)
    order = np.argsort(-r)
    x, y = points["x"].to_numpy(), points["y"].to_numpy()
    out: list[tuple[float, float]] = []
    for i in order[: 200000]:
        if not np.isfinite(r[i]):
            break
        if all((x[i] - a) ** 2 + (y[i] - b) ** 2 >= min_sep_m**2 for a, b in out):
            out.append((x[i], y[i]))
            if len(out) == k:
                break
    return np.array(out).reshape(-1, 2)


def topk_scores(ranked: list[str], truth: set[str], k: int) -> tuple[float, float]:
    """Precision and recall of the top-``k`` of ``ranked`` against the true ids.

    Examples
    --------
    >>> topk_scores(["a", "b", "c"], {"a", "c", "d"}, 2)
    (0.5, 0.3333333333333333)
    """
    top = ranked[:k]
    hit = len(set(top) & truth)
    return (hit / k if k else 0.0, hit / len(truth) if truth else 0.0)


def localisation_errors(found_xy: np.ndarray, true_xy: np.ndarray) -> np.ndarray:
    """For each true source, the distance (m) to the nearest found location (inf when none was found)."""
    true_xy = np.asarray(true_xy, float).reshape(-1, 2)
    found_xy = np.asarray(found_xy, float).reshape(-1, 2)
    if len(found_xy) == 0:
        return np.full(len(true_xy), np.inf)
    return cKDTree(found_xy).query(true_xy)[0]
