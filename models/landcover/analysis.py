"""Park-level land-cover analysis: classify two periods, zone areas with error adjustment, change strata CIs.

This is the model side of the ``landcover`` diagnostic (which turns the results into findings, indicators
and map layers). Accuracy enters as a confusion matrix of counts — the model's spatially blocked CV matrix,
or the measured matrix of the index rules — and is used two ways:

* class areas in a zone: the stratified estimator of Olofsson et al. (2014) with the map classes as strata
  and the confusion counts as the (non-probability) reference sample; classes the matrix does not cover
  get their mapped area and no interval;
* a change patch mapped ``a → b``: the chance ``u`` that what the finding claims is true (new ``b``, lost ``a``,
  or any change; see :func:`change_ci`) from the rows ``a`` and ``b`` of the matrix, classification errors of
  the two dates assumed independent (index confirmation makes the real figure better), with a binomial
  standard error on ``n = min(n_a, n_b)`` map-class samples; the patch area estimate is ``A·u ± 1.96·A·SE(u)``. This covers commission only; omitted change needs a
  reference sample from ``parkscan landcover sample``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .classes import NODATA, PARK_CLASSES
from .olofsson import Z95, estimate

__all__ = ["Accuracy", "classify_dataset", "model_accuracy", "zone_areas", "change_ci", "cube_of"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accuracy:
    """A confusion matrix of counts in park class codes (rows = map, columns = reference) and where it came from."""

    classes: tuple[int, ...]
    """Park class codes of the rows/columns."""
    counts: np.ndarray
    """Counts, rows = map class, columns = reference class."""
    source: str
    """How it was measured (one line)."""

    def users(self) -> dict[int, tuple[float, int]]:
        """Class code → (user's accuracy, number of map-class samples)."""
        out = {}
        for i, c in enumerate(self.classes):
            n = int(self.counts[i].sum())
            out[c] = (float(self.counts[i, i] / n) if n else float("nan"), n)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "Accuracy":
        """From ``{"classes": [names or codes], "matrix_rows_reference": [[...]], "source": ...}`` (rows = reference)."""
        codes = [c if isinstance(c, int) else PARK_CLASSES.index(c) + 1 for c in d["classes"]]
        m = np.asarray(d["matrix_rows_reference"], float).T  # → rows = map
        return cls(tuple(codes), m, d.get("source", ""))


def cube_of(ds, bands=None) -> tuple[np.ndarray, list[str]]:
    """``(time, band, y, x)`` float32 numpy cube and its band names from an imagery Dataset."""
    bands = [b for b in (bands or ds.data_vars) if b in ds.data_vars]
    arrs = []
    for b in bands:
        v = ds[b]
        if "time" not in v.dims:
            v = v.expand_dims("time")
        arrs.append(np.asarray(v.transpose("time", "y", "x").values, "float32"))
    return np.stack(arrs, axis=1), bands


def classify_dataset(ds, model=None) -> tuple[np.ndarray, dict]:
    """Class map (uint8) of a period and a description of the method used.

    With a :class:`~parkscan.models.landcover.model.LandcoverModel`, dask-chunked prediction; without, the
    index rules of :mod:`parkscan.models.landcover.rules`.
    """
    if model is not None:
        from .predict import predict_dataset

        out = predict_dataset(model, ds).values
        return out.astype(np.uint8), {"method": "model", "detail": model.meta.get("description", "trained model"),
                                      "features": list(model.spec.names)}
    from .rules import RULES, classify_rules

    cube, bands = cube_of(ds)
    return classify_rules(cube, bands), {"method": "rules", "detail": "index rules (NDVI, MNDWI, NDBI)", "rules": dict(RULES)}


def model_accuracy(model=None) -> Accuracy | None:
    """The confusion matrix that goes with the classifier: the model's blocked-CV matrix, or the rules' measured one."""
    if model is not None:
        cv = model.meta.get("cv")
        return Accuracy.from_dict(dict(cv, source=model.meta.get("cv_source", "spatially blocked CV of the training labels"))) if cv else None
    from .rules import rules_accuracy

    acc = rules_accuracy()
    return Accuracy.from_dict(acc["combined"]) if acc.get("combined") else None


def zone_areas(class_map: np.ndarray, zone: np.ndarray, pixel_ha: float, acc: Accuracy | None) -> dict[str, dict]:
    """Mapped and error-adjusted area (± 95 % CI) of each class inside a zone mask."""
    out = {}
    codes = np.arange(1, len(PARK_CLASSES) + 1)
    mapped = np.array([np.count_nonzero(zone & (class_map == c)) * pixel_ha for c in codes])
    for c, a in zip(codes, mapped):
        out[PARK_CLASSES[c - 1]] = {"mapped_ha": float(a), "area_ha": None, "ci95_ha": None}
    if acc is None or mapped.sum() == 0:
        return out
    covered = [c for c in acc.classes if c in codes]
    idx = [acc.classes.index(c) for c in covered]
    counts = acc.counts[np.ix_(idx, idx)]
    A = np.array([mapped[c - 1] for c in covered])
    keep = counts.sum(1) > 0
    if not keep.any() or A[keep].sum() == 0:
        return out
    sel = [i for i, k in enumerate(keep) if k]
    est = estimate(counts[np.ix_(sel, sel)], A[sel], [covered[i] for i in sel])
    for j, c in enumerate(est.classes):
        out[PARK_CLASSES[c - 1]].update(area_ha=float(est.area[j]), ci95_ha=float(est.area_ci95[j]))
    return out


def change_ci(area_ha: float, from_code: int, to_code: int, acc: Accuracy | None, *, event: str = "any") -> dict:
    """Error-adjusted area of a change patch mapped ``from → to``, with a 95 % CI (commission only, see module doc).

    ``event`` says what the finding claims, and so what must be right:

    * ``"to"`` — the place *became* ``to`` (new built-up): P(ref after = to | map to) × P(ref before ≠ to | map from);
    * ``"from"`` — the place *lost* ``from`` (farmland loss): P(ref before = from | map from) × P(ref after ≠ from | map to);
    * ``"any"`` — the cover changed: 1 − Σ_c P(c | map from) · P(c | map to).

    Errors of the two dates are assumed independent; ``n = min(n_from, n_to)`` map-class samples give a binomial SE.
    """
    none = {"area_ha": float(area_ha), "adjusted_ha": None, "ci95_ha": None, "p_correct": None}
    if acc is None or from_code not in acc.classes or to_code not in acc.classes:
        return none
    i, j = acc.classes.index(from_code), acc.classes.index(to_code)
    ni, nj = acc.counts[i].sum(), acc.counts[j].sum()
    if not ni or not nj:
        return none
    pf, pt = acc.counts[i] / ni, acc.counts[j] / nj  # P(ref = c | map from), P(ref = c | map to)
    if event == "to":
        u = pt[j] * (1 - pf[j])
    elif event == "from":
        u = pf[i] * (1 - pt[i])
    else:
        u = 1 - float((pf * pt).sum())
    u = float(np.clip(u, 0.0, 1.0))
    n = min(ni, nj)
    se = np.sqrt(u * (1 - u) / max(n - 1, 1))
    return {"area_ha": float(area_ha), "adjusted_ha": float(area_ha * u), "ci95_ha": float(Z95 * area_ha * se), "p_correct": u}
