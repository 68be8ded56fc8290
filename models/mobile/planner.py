"""Campaign planner: how many drives does this road network need for a stable map?

Drives are trips, or blocks of a trip separated by more than ``drive_gap_s``. The single-drive map reliability
``r1`` is the (Fisher-z averaged) Pearson correlation between the segment maps of every pair of drives, on the
excess over background (the excess removes the drive-to-drive background drift; Pearson is driven by the plume
segments that matter). By the Spearman–Brown relation of classical test theory an ``n``-drive map has reliability
``R_n = n r1 / (1 + (n − 1) r1)``; split halves of ``n`` drives each give the observed ``R_n`` next to it. The number of drives giving a map
reliability ``target`` is then ``n* = target (1 − r1) / (r1 (1 − target))``. With the simulator
(:func:`plan_with_simulator`), the same estimate is made on a simulated scenario of the park type, so a
campaign can be planned before anyone drives (and compared with Messier et al. 2018, who needed ~10–20
drives for stable NO/NO2/BC maps in Oakland).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from parkscan.aoi.errors import ModelError

__all__ = ["PassPlan", "plan_passes", "plan_with_simulator", "drive_ids", "spearman_brown"]


def spearman_brown(r1: float, n: float) -> float:
    """Reliability of the mean of ``n`` drives given single-drive reliability ``r1``.

    Examples
    --------
    >>> round(spearman_brown(0.3, 4), 3)
    0.632
    """
    return n * r1 / (1 + (n - 1) * r1) if r1 > 0 else 0.0


@dataclass
class PassPlan:
    """The planner's answer for one pollutant."""

    pollutant: str
    """Pollutant planned for."""
    drives: int
    """Drives in the data."""
    r1: float
    """Single-drive map reliability (Spearman–Brown, from split-sample correlations)."""
    needed: int | None
    """Drives needed for ``target`` reliability (None when r1 < 0.01: no stable spatial pattern to map)."""
    target: float
    """Target reliability."""
    curve: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    """n → observed split correlation (median) and predicted reliability."""


def drive_ids(points: pd.DataFrame, *, drive_gap_s: float = 1800.0) -> np.ndarray:
    """Drive id per point: a new drive at each trip change or time gap longer than ``drive_gap_s``."""
    t = points["t"].to_numpy(float)
    trip = pd.factorize(points["trip"].to_numpy())[0]
    new = np.ones(len(points), bool)
    new[1:] = (trip[1:] != trip[:-1]) | (np.diff(t) > drive_gap_s)
    return np.cumsum(new) - 1


def plan_passes(analysis, pollutant: str | None = None, *, target: float = 0.8, n_boot: int = 20, seed: int = 0,
                drive_gap_s: float = 1800.0, min_segments: int = 20) -> PassPlan:
    """Estimate single-drive reliability and the drives needed for a stable map of ``pollutant``."""
    pollutant = pollutant or analysis.pollutants[0]
    pts = analysis.points
    col = f"ex_{pollutant}" if f"ex_{pollutant}" in pts else pollutant  # excess: drive-to-drive background drift removed
    drv = drive_ids(pts, drive_gap_s=drive_gap_s)
    m = (pts["segment"].to_numpy() >= 0) & np.isfinite(pts[col].to_numpy(float))
    df = pd.DataFrame({"seg": pts["segment"].to_numpy()[m], "pass": pts["pass_id"].to_numpy()[m], "drive": drv[m], "v": pts[col].to_numpy(float)[m]})
    pm = df.groupby(["seg", "pass", "drive"], sort=False)["v"].median().reset_index()
    drives = np.unique(pm["drive"])
    D = len(drives)
    if D < 2:
        raise ModelError(f"the planner needs at least 2 separate drives (got {D}); it splits drives into two maps")
    rng = np.random.default_rng(seed)
    # single-drive reliability: Fisher-z mean of the correlations between every pair of single-drive maps
    maps = {d: g.groupby("seg")["v"].median() for d, g in pm.groupby("drive")}
    r1s = []
    for i in range(D):
        for j in range(i + 1, D):
            ma, mb = maps[drives[i]], maps[drives[j]]
            both = ma.index.intersection(mb.index)
            if len(both) < min_segments or ma[both].std() == 0 or mb[both].std() == 0:
                continue
            r1s.append(float(stats.pearsonr(ma[both], mb[both]).statistic))
    # split halves of n drives each: the observed reliability of n-drive maps, to check the prediction
    rows = []
    for n in range(1, D // 2 + 1):
        obs = []
        for _ in range(n_boot):
            perm = rng.permutation(drives)
            ma = pm[pm["drive"].isin(perm[:n])].groupby("seg")["v"].median()
            mb = pm[pm["drive"].isin(perm[n : 2 * n])].groupby("seg")["v"].median()
            both = ma.index.intersection(mb.index)
            if len(both) >= min_segments and ma[both].std() > 0 and mb[both].std() > 0:
                obs.append(float(stats.pearsonr(ma[both], mb[both]).statistic))
        rows.append({"n": n, "split_corr_median": float(np.median(obs)) if obs else np.nan, "boots": len(obs)})
    if not r1s:
        raise ModelError("the drives share too few segments to compare maps")
    r1 = float(np.tanh(np.mean(np.arctanh(np.clip(r1s, -0.999, 0.999)))))
    needed = None if r1 < 0.01 else int(math.ceil(target * (1 - r1) / (r1 * (1 - target))))
    curve = pd.DataFrame(rows)
    nmax = max(D, needed or 0, 4)
    pred = pd.DataFrame({"n": np.arange(1, nmax + 1), "predicted_reliability": [spearman_brown(r1, n) for n in range(1, nmax + 1)]})
    curve = pred.merge(curve, on="n", how="left")
    return PassPlan(pollutant=pollutant, drives=D, r1=r1, needed=needed, target=target, curve=curve)


def plan_with_simulator(out_dir: str | Path, *, preset: str = "typical", seed: int = 0, pollutant: str = "tvoc",
                        target: float = 0.8, n_boot: int = 20) -> PassPlan:
    """Simulate a scenario of ``preset`` (``parkscan.sources.simulate``) and plan its campaign."""
    from parkscan.sources.mobile import read_mobile
    from parkscan.sources.simulate import simulate

    from .analysis import analyse

    sc = simulate(out_dir, seed=seed, preset=preset)
    run = read_mobile(list(sc.mobile), datum=sc.mobile_datum, tz=(sc.truth.get("mobile") or {}).get("timezone"))
    a = analyse(run, lag=None)
    return plan_passes(a, pollutant, target=target, n_boot=n_boot, seed=seed)
