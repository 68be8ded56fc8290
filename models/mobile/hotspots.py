"""Local hotspot statistics on segments: Getis-Ord Gi* (esda/libpysal) with Benjamini–Hochberg FDR.

Gi* (Getis & Ord 1992; Ord & Getis 1995) compares the sum of a segment's neighbourhood (itself included)
with what the whole map would give at random. Its analytical z-score and one-sided p-value are computed by
``esda.G_Local(star=True)`` on binary distance-band weights (``libpysal.weights.DistanceBand``); the
p-values of all segments are then controlled for the false discovery rate with Benjamini–Hochberg
(``scipy.stats.false_discovery_control``) so that, among the reported hotspots, at most ``alpha`` are
expected to be false alarms. Hot segments that touch (within the band) form one hotspot cluster.
"""
from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from scipy import stats
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from parkscan.aoi.errors import ModelError

__all__ = ["gi_star", "hotspot_clusters"]

log = logging.getLogger(__name__)


def gi_star(x: np.ndarray, y: np.ndarray, values: np.ndarray, *, band_m: float = 100.0, alpha: float = 0.05,
            permutations: int = 0, seed: int = 0) -> pd.DataFrame:
    """Getis-Ord Gi* z-scores, p-values and BH q-values of ``values`` at points ``(x, y)`` (metres).

    Parameters
    ----------
    x, y : ndarray
        Segment centroids in a metric CRS.
    values : ndarray
        The mapped value (segment medians); NaN segments are left out (z, p, q NaN).
    band_m : float
        Neighbour distance (binary weights; the segment itself is included: Gi*).
    alpha : float
        False discovery rate for ``hot``/``cold``.
    permutations : int
        0 uses the analytical normal approximation; >0 conditional randomisation (slower).
    seed : int
        Seed of the permutations.

    Returns
    -------
    DataFrame
        ``z``, ``p`` (one-sided, hot), ``q`` (BH-adjusted), ``hot`` (z > 0 and q <= alpha), ``cold``,
        ``n_neighbours``.

    Examples
    --------
    >>> xs = np.arange(100.0) * 30
    >>> v = np.ones(100); v[50:53] = 20
    >>> out = gi_star(xs, np.zeros(100), v)
    >>> out["hot"].to_numpy().nonzero()[0].tolist()
    [48, 49, 50, 51, 52, 53, 54]
    """
    import esda
    import libpysal

    values = np.asarray(values, float)
    ok = np.isfinite(values) & np.isfinite(x) & np.isfinite(y)
    out = pd.DataFrame({"z": np.nan, "p": np.nan, "q": np.nan, "hot": False, "cold": False, "n_neighbours": 0}, index=range(len(values)))
    if ok.sum() < 3:
        raise ModelError(f"Gi* needs at least 3 segments with values, got {int(ok.sum())}")
    if np.nanstd(values[ok]) == 0:
        out.loc[ok, ["z", "p", "q"]] = [0.0, 0.5, 1.0]
        return out
    xy = np.column_stack([x[ok], y[ok]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands / disconnected components are expected on road networks
        w = libpysal.weights.DistanceBand(xy, threshold=band_m, binary=True, silence_warnings=True)
        # G is a ratio to the sum of the values: it needs non-negative values (an excess over background can be
        # negative). The standardised Gi* z is invariant to a shift once the mean is positive, so shift to >= 0.
        yv = values[ok] - min(0.0, float(values[ok].min()))
        g = esda.G_Local(yv, w, transform="B", star=True, permutations=permutations, seed=seed, keep_simulations=False)
    z = np.asarray(g.Zs, float)
    if permutations:
        p = np.where(z > 0, np.asarray(g.p_sim, float), 1.0)
    else:
        p = stats.norm.sf(z)
    p = np.where(np.isfinite(p), p, 1.0)
    q = stats.false_discovery_control(p, method="bh")
    pc = stats.norm.cdf(z)
    qc = stats.false_discovery_control(np.where(np.isfinite(pc), pc, 1.0), method="bh")
    out.loc[ok, "z"] = z
    out.loc[ok, "p"] = p
    out.loc[ok, "q"] = q
    out.loc[ok, "hot"] = (z > 0) & (q <= alpha)
    out.loc[ok, "cold"] = (z < 0) & (qc <= alpha)
    out.loc[ok, "n_neighbours"] = np.array([w.cardinalities[i] for i in w.id_order])
    return out


def hotspot_clusters(x: np.ndarray, y: np.ndarray, hot: np.ndarray, *, link_m: float = 100.0) -> np.ndarray:
    """Cluster labels (0..k-1) of hot segments linked within ``link_m``; -1 for the others."""
    hot = np.asarray(hot, bool)
    lab = np.full(len(hot), -1, np.int64)
    idx = np.flatnonzero(hot)
    if idx.size == 0:
        return lab
    xy = np.column_stack([x[idx], y[idx]])
    pairs = cKDTree(xy).query_pairs(link_m, output_type="ndarray")
    m = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])) if len(pairs) else ([], ([], [])), shape=(idx.size, idx.size))
    lab[idx] = connected_components(m, directed=False)[1]
    return lab
