"""Area estimation and accuracy assessment after Olofsson et al. (2014).

Olofsson, P., Foody, G. M., Herold, M., Stehman, S. V., Woodcock, C. E., Wulder, M. A. (2014). Good practices
for estimating area and assessing accuracy of land change. Remote Sensing of Environment 148, 42–57.

The map classes are the strata of a stratified random sample. :func:`sample_size` and :func:`allocate`
design the sample (eq. 13 and the "rare strata get a minimum" allocation), :func:`stratified_sample` draws
the points, and :func:`estimate` turns the interpreted sample (error matrix of counts, rows = map,
columns = reference) plus the mapped areas into the error matrix in area proportions (eq. 4), error-adjusted
areas with standard errors and 95 % confidence intervals (eqs. 9–12), and user's, producer's and overall
accuracy with their standard errors (eqs. 14–16 and the variance formulas of Olofsson et al. 2013).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from parkscan.aoi.errors import ModelError

__all__ = ["AreaEstimate", "estimate", "sample_size", "allocate", "stratified_sample", "Z95"]

Z95 = 1.959963984540054
"""Two-sided 95 % normal quantile."""


@dataclass(frozen=True)
class AreaEstimate:
    """Result of :func:`estimate` (all arrays in the order of ``classes``)."""

    classes: tuple
    """Class labels (strata = map classes, same set as reference classes)."""
    counts: np.ndarray
    """Sample error matrix, rows = map, columns = reference."""
    proportions: np.ndarray
    """Error matrix in estimated area proportions p̂_ij (eq. 4)."""
    mapped_area: np.ndarray
    """Mapped area per class (the stratum sizes), in the caller's unit."""
    area: np.ndarray
    """Error-adjusted area per class (eq. 10)."""
    area_se: np.ndarray
    """Standard error of the area (eq. 12)."""
    users: np.ndarray
    """User's accuracy (eq. 14)."""
    users_se: np.ndarray
    """Standard error of user's accuracy."""
    producers: np.ndarray
    """Producer's accuracy (eq. 15)."""
    producers_se: np.ndarray
    """Standard error of producer's accuracy."""
    overall: float
    """Overall accuracy (eq. 16)."""
    overall_se: float
    """Its standard error."""

    @property
    def area_ci95(self) -> np.ndarray:
        """Half-width of the 95 % confidence interval of the areas."""
        return Z95 * self.area_se

    def to_dict(self, unit: str = "ha") -> dict:
        """JSON-able summary."""
        rows = {}
        for i, c in enumerate(self.classes):
            rows[str(c)] = {
                f"mapped_{unit}": float(self.mapped_area[i]), f"area_{unit}": float(self.area[i]),
                f"ci95_{unit}": float(self.area_ci95[i]), "users": float(self.users[i]),
                "users_ci95": float(Z95 * self.users_se[i]), "producers": float(self.producers[i]),
                "producers_ci95": float(Z95 * self.producers_se[i]), "n": int(self.counts[i].sum()),
            }
        return {"classes": rows, "overall": float(self.overall), "overall_ci95": float(Z95 * self.overall_se),
                "counts_rows_map": self.counts.tolist(), "proportions_rows_map": np.round(self.proportions, 6).tolist()}


def estimate(counts: np.ndarray, mapped_area: Sequence[float], classes: Sequence | None = None) -> AreaEstimate:
    """Stratified estimators of area and accuracy from a sample error matrix.

    Parameters
    ----------
    counts : (k, k) array
        Sample counts n_ij, rows = map class (stratum) i, columns = reference class j.
    mapped_area : (k,) array
        Mapped area of each class (pixels, ha, ...; the result uses the same unit).
    classes : sequence, optional
        Labels of the k classes.

    Examples
    --------
    Olofsson et al. (2014), section 5 (strata in 30 m pixels → ha):

    >>> n = [[66, 0, 5, 4], [0, 55, 8, 12], [1, 0, 153, 11], [2, 1, 9, 313]]
    >>> a = np.array([200_000, 150_000, 3_200_000, 6_450_000]) * 0.09
    >>> r = estimate(n, a)
    >>> round(r.area[0]), round(r.area_ci95[0])
    (21158, 6158)
    """
    n = np.asarray(counts, dtype=float)
    k = n.shape[0]
    if n.shape != (k, k):
        raise ModelError(f"the error matrix must be square, got shape {n.shape}")
    A = np.asarray(mapped_area, dtype=float)
    if A.shape != (k,):
        raise ModelError(f"mapped_area has {A.size} values for {k} classes")
    if classes is None:
        classes = tuple(range(k))
    Atot = A.sum()
    if Atot <= 0:
        raise ModelError("the mapped areas sum to zero")
    W = A / Atot
    ni = n.sum(axis=1)
    empty = (ni == 0) & (W > 0)
    if empty.any():
        raise ModelError(
            f"strata {[classes[i] for i in np.flatnonzero(empty)]} have mapped area but no sample points; "
            "every mapped class needs interpreted points"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        nij_ni = np.where(ni[:, None] > 0, n / ni[:, None], 0.0)
    p = W[:, None] * nij_ni  # eq. 4
    pj = p.sum(axis=0)  # eq. 9
    # eq. 12: variance of the estimated proportion of area of reference class j
    denom = np.where(ni > 1, ni - 1, np.inf)[:, None]
    var_pj = ((W[:, None] ** 2) * nij_ni * (1 - nij_ni) / denom).sum(axis=0)
    se_pj = np.sqrt(var_pj)
    ua = np.diag(nij_ni).copy()
    var_ua = np.where(ni > 1, ua * (1 - ua) / np.where(ni > 1, ni - 1, 1), 0.0)
    oa = float(np.trace(p))
    var_oa = float((W**2 * ua * (1 - ua) / np.where(ni > 1, ni - 1, np.inf)).sum())
    # producer's accuracy and its variance (Olofsson et al. 2013, eq. 7 in the appendix of 2014)
    Nj_hat = (A[:, None] * nij_ni).sum(axis=0)  # estimated reference totals (area units)
    with np.errstate(divide="ignore", invalid="ignore"):
        pa = np.where(pj > 0, np.diag(p) / pj, np.nan)
    var_pa = np.zeros(k)
    for j in range(k):
        if not pj[j] > 0:
            var_pa[j] = np.nan
            continue
        term1 = A[j] ** 2 * (1 - pa[j]) ** 2 * ua[j] * (1 - ua[j]) / max(ni[j] - 1, 1) if ni[j] > 1 else 0.0
        term2 = 0.0
        for i in range(k):
            if i == j or ni[i] <= 1:
                continue
            q = nij_ni[i, j]
            term2 += A[i] ** 2 * q * (1 - q) / (ni[i] - 1)
        var_pa[j] = (term1 + pa[j] ** 2 * term2) / Nj_hat[j] ** 2
    return AreaEstimate(
        classes=tuple(classes), counts=n.astype(int), proportions=p, mapped_area=A, area=pj * Atot, area_se=se_pj * Atot,
        users=ua, users_se=np.sqrt(var_ua), producers=pa, producers_se=np.sqrt(var_pa), overall=oa,
        overall_se=float(np.sqrt(var_oa)),
    )


def sample_size(weights: Sequence[float], expected_users: Sequence[float], *, target_se: float = 0.01) -> int:
    """Total sample size for a target standard error of overall accuracy (Olofsson et al. 2014, eq. 13).

    Examples
    --------
    >>> sample_size([0.02, 0.015, 0.32, 0.645], [0.7, 0.6, 0.9, 0.95], target_se=0.01)
    641
    """
    W = np.asarray(weights, float)
    W = W / W.sum()
    U = np.asarray(expected_users, float)
    S = np.sqrt(U * (1 - U))
    return int(np.ceil(((W * S).sum() / target_se) ** 2))


def allocate(n_total: int, weights: Sequence[float], *, min_per_stratum: int = 50) -> np.ndarray:
    """Sample size per stratum: proportional to area, but at least ``min_per_stratum`` in each stratum.

    Rare strata (typically the change classes) get the minimum; the rest of the sample is split
    among the others in proportion to their area, as recommended by Olofsson et al. (2014, §5.1.2).
    """
    W = np.asarray(weights, float)
    W = W / W.sum()
    k = len(W)
    n = np.zeros(k, int)
    fixed = np.zeros(k, bool)
    while True:
        rest = n_total - n[fixed].sum()
        share = np.where(~fixed, W / max(W[~fixed].sum(), 1e-12) * rest, 0.0)
        small = (~fixed) & (share < min_per_stratum)
        if not small.any():
            n[~fixed] = np.floor(share[~fixed]).astype(int)
            # distribute the rounding remainder to the largest strata
            left = n_total - n.sum()
            order = np.argsort(-(share - np.floor(share)) * (~fixed))
            for i in order[: max(left, 0)]:
                n[i] += 1
            return n
        n[small] = min_per_stratum
        fixed |= small
        if fixed.all():
            return n


def stratified_sample(class_map: np.ndarray, n_per_class: Mapping[int, int], *, seed: int = 0,
                      nodata: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random pixel positions per stratum without replacement.

    Returns ``(rows, cols)`` arrays; a stratum smaller than its allocation is sampled completely.
    """
    rng = np.random.default_rng(seed)
    flat = np.asarray(class_map).ravel()
    rows, cols = [], []
    W = class_map.shape[1]
    for c, m in sorted(n_per_class.items()):
        if c == nodata or m <= 0:
            continue
        idx = np.flatnonzero(flat == c)
        if idx.size == 0:
            continue
        pick = rng.choice(idx, size=min(m, idx.size), replace=False)
        rows.append(pick // W)
        cols.append(pick % W)
    if not rows:
        return np.empty(0, int), np.empty(0, int)
    return np.concatenate(rows), np.concatenate(cols)
