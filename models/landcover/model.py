"""A trained land-cover model: estimator + feature spec + class set + accuracy, saved with a version check.

Files are a joblib pickle of a plain dict ``{"format": FORMAT, "parkscan": ..., "sklearn": ...,
"spec": ..., "classes": ..., "estimator": ..., "meta": ...}``. :func:`load_model` refuses a file whose
format version differs from :data:`FORMAT_VERSION` and one written with a different scikit-learn
major.minor (pickled trees are not portable across those) — retrain with ``parkscan landcover train``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from parkscan.aoi.atomic import atomic_path
from parkscan.aoi.errors import ModelError

from .classes import NODATA, PARK_CLASSES
from .features import FeatureSpec

__all__ = ["LandcoverModel", "FORMAT", "FORMAT_VERSION", "train_model", "load_model", "make_estimator"]

log = logging.getLogger(__name__)

FORMAT = "parkscan-landcover-model"
"""Identifies model files."""
FORMAT_VERSION = 1
"""Bumped whenever the stored layout or the feature computation changes."""
BATCH_ROWS = 65536
"""Rows per ``estimator.predict`` call inside a block."""


def _sk_version() -> str:
    import sklearn

    return sklearn.__version__


def make_estimator(kind: str = "rf", *, seed: int = 0, n_jobs: int = 1, class_weight: str | None = None):
    """The scikit-learn estimator behind a model.

    ``rf`` is a random forest sized for fast prediction (32 trees, depth ≤ 14): on the benchmark scene it is
    as accurate as 64 trees of depth 18 (0.987 vs 0.988) and about 2.5× faster to apply (bench/bench_landcover.py).
    ``et`` is extra-trees (96 trees). ``etgb`` is a soft vote of extra-trees and class-balanced histogram
    gradient boosting: on the real Slovenia labels it lifted the rare classes (shrubland F1 0.38 → 0.45)
    where either alone did not (bench/eval_landcover.py); it is the slowest to train.
    """
    from sklearn.ensemble import ExtraTreesClassifier, HistGradientBoostingClassifier, RandomForestClassifier, VotingClassifier

    if kind == "rf":
        return RandomForestClassifier(n_estimators=32, max_depth=14, min_samples_leaf=3, n_jobs=n_jobs,
                                      random_state=seed, class_weight=class_weight)
    if kind == "et":
        return ExtraTreesClassifier(n_estimators=96, max_depth=20, min_samples_leaf=2, n_jobs=n_jobs,
                                    random_state=seed, class_weight=class_weight)
    if kind == "etgb":
        et = ExtraTreesClassifier(n_estimators=300, n_jobs=n_jobs, random_state=seed, class_weight=class_weight)
        gb = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=seed, class_weight="balanced")
        return VotingClassifier([("et", et), ("gb", gb)], voting="soft", weights=[0.7, 0.3])
    raise ModelError(f"unknown estimator {kind!r}; use rf, et or etgb")


def require_dates(spec: FeatureSpec, doy, remedy: str) -> None:
    """:class:`ModelError` (with ``remedy``) when ``spec`` needs more dated scenes than ``doy`` gives."""
    try:
        spec.check_dates(doy)
    except ValueError as err:
        raise ModelError(f"{err}; {remedy}") from None


@dataclass
class LandcoverModel:
    """A fitted classifier with everything needed to apply it to new imagery."""

    estimator: Any
    """Fitted scikit-learn classifier (predicts park class codes)."""
    spec: FeatureSpec
    """The features it was trained on."""
    class_weights: np.ndarray | None = None
    """Optional per-class multipliers applied to predicted probabilities (prior shift), aligned with ``estimator.classes_``."""
    meta: dict = field(default_factory=dict)
    """Provenance and accuracy: training data, date, blocked-CV confusion matrix, OA, kappa, F1 per class."""
    thinning: dict | None = None
    """Learned label convention of thin structures: class code → run-end sides to drop
    (:mod:`parkscan.models.landcover.thinning`); ``None`` = none."""

    @property
    def halo(self) -> int:
        """Pixels of neighbourhood a prediction depends on (features, plus the thinning rule's reach)."""
        from .thinning import HALO

        return self.spec.halo + (HALO if self.thinning else 0)

    @property
    def classes(self) -> np.ndarray:
        """Park class codes the estimator predicts."""
        return np.asarray(self.estimator.classes_)

    def _proba_batches(self, feats: np.ndarray):
        """``(rows, weighted probabilities)`` per batch of finite rows, the flat feature count, and the finite mask.

        Batches of 64 Ki rows keep each tree's (rows × classes) probability array in cache (~2× faster); C-contiguous
        float32 is what the trees read (anything else would be copied once per tree call); when every row is finite
        the batches are contiguous slices, without gather copies.
        """
        X = np.ascontiguousarray(feats.reshape(-1, feats.shape[-1]), dtype=np.float32)
        finite = np.isfinite(X).all(axis=1)
        if finite.all():
            batches = ((slice(i, i + BATCH_ROWS), X[i:i + BATCH_ROWS]) for i in range(0, X.shape[0], BATCH_ROWS))
        else:
            good = np.flatnonzero(finite)
            batches = ((good[i:i + BATCH_ROWS], X[good[i:i + BATCH_ROWS]]) for i in range(0, good.size, BATCH_ROWS))

        def gen():
            for sel, Xg in batches:
                proba = self.estimator.predict_proba(Xg)
                if self.class_weights is not None:
                    proba *= self.class_weights
                yield sel, proba

        return gen(), X.shape[0], finite

    def predict_proba_features(self, feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities ``(..., n_classes)`` (class weights applied; order of :attr:`classes`) and the
        mask of pixels with finite features (elsewhere the probabilities are 0)."""
        shape = feats.shape[:-1]
        batches, n, finite = self._proba_batches(feats)
        out = np.zeros((n, len(self.classes)), np.float32)
        for sel, proba in batches:
            out[sel] = proba
        return out.reshape(shape + (len(self.classes),)), finite.reshape(shape)

    def predict_features(self, feats: np.ndarray) -> np.ndarray:
        """Class codes (uint8) for features ``(..., n_features)``; NODATA where any feature is NaN.

        With a learned :attr:`thinning`, ``feats`` must be a ``(y, x, n_features)`` image (the rule looks at
        neighbours).
        """
        if self.thinning:
            from .thinning import apply_thinning

            proba, finite = self.predict_proba_features(feats)
            out = apply_thinning(proba, self.classes.astype(np.uint8), self.thinning, valid=finite)
            return np.where(finite, out, NODATA).astype(np.uint8)
        batches, n, _ = self._proba_batches(feats)
        out = np.full(n, NODATA, dtype=np.uint8)
        codes = self.classes.astype(np.uint8)
        for sel, proba in batches:
            out[sel] = codes[proba.argmax(axis=1)]
        return out.reshape(feats.shape[:-1])

    def predict_cube(self, cube: np.ndarray, doy=None) -> np.ndarray:
        """Class codes ``(y, x)`` from a reflectance cube ``(time, band, y, x)`` held in memory.

        ``doy`` (day of year per scene) is needed when the model uses harmonic features.
        """
        require_dates(self.spec, doy, "widen the period or use another model")
        return self.predict_features(self.spec.compute(cube, doy))

    def save(self, path: str | Path) -> Path:
        """Write the model atomically (joblib) with format and library versions."""
        import joblib

        import parkscan

        payload = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "parkscan": getattr(parkscan, "__version__", "unknown"),
            "sklearn": _sk_version(),
            "spec": self.spec.to_dict(),
            "class_names": {int(c): PARK_CLASSES[int(c) - 1] for c in self.classes},
            "class_weights": None if self.class_weights is None else [float(w) for w in self.class_weights],
            "thinning": None if not self.thinning else {int(k): list(v) for k, v in self.thinning.items()},
            "estimator": self.estimator,
            "meta": self.meta,
        }
        path = Path(path)
        with atomic_path(path) as tmp:
            joblib.dump(payload, tmp, compress=3)
        return path


def load_model(path: str | Path) -> LandcoverModel:
    """Read a model written by :meth:`LandcoverModel.save`, checking its versions.

    Raises
    ------
    ModelError
        If the file is missing, not a parkscan model, of another format version, or pickled by a
        different scikit-learn major.minor version.
    """
    import joblib

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such model file; train one with `parkscan landcover train`")
    try:
        payload = joblib.load(path)
    except (EOFError, OSError, ValueError, KeyError, ImportError, AttributeError) as err:
        raise ModelError(f"{path}: not a readable parkscan land-cover model ({err}); retrain it") from err
    if not isinstance(payload, Mapping) or payload.get("format") != FORMAT:
        raise ModelError(f"{path}: not a parkscan land-cover model file")
    if payload.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{path}: model format version {payload.get('format_version')} but this parkscan reads version "
            f"{FORMAT_VERSION}; retrain it with `parkscan landcover train`"
        )
    have, want = _sk_version().split(".")[:2], str(payload.get("sklearn", "")).split(".")[:2]
    if have != want:
        raise ModelError(
            f"{path}: model was written with scikit-learn {payload.get('sklearn')} but {_sk_version()} is installed; "
            "retrain it with `parkscan landcover train`"
        )
    cw = payload.get("class_weights")
    th = payload.get("thinning")
    return LandcoverModel(estimator=payload["estimator"], spec=FeatureSpec.from_dict(payload["spec"]),
                          class_weights=None if cw is None else np.asarray(cw, float), meta=dict(payload.get("meta", {})),
                          thinning={int(k): list(v) for k, v in th.items()} if th else None)


def train_model(features: np.ndarray, labels: np.ndarray, spec: FeatureSpec, *, estimator: str = "rf", seed: int = 0,
                n_jobs: int = 1, class_weight: str | None = None, min_per_class: int = 5, meta: dict | None = None) -> LandcoverModel:
    """Fit a model on features ``(..., n_features)`` and park class codes ``(...)`` (0 = unlabelled, ignored).

    Raises
    ------
    ModelError
        If fewer than two classes have ``min_per_class`` labelled pixels.
    """
    X = features.reshape(-1, features.shape[-1])
    y = np.asarray(labels).reshape(-1)
    keep = (y != NODATA) & np.isfinite(X).all(axis=1)
    X, y = X[keep], y[keep]
    codes, counts = np.unique(y, return_counts=True)
    ok = codes[counts >= min_per_class]
    if len(ok) < 2:
        raise ModelError(
            f"training needs at least two classes with >= {min_per_class} labelled pixels; got "
            f"{dict(zip(codes.tolist(), counts.tolist()))} — add labelled polygons or a larger reference raster"
        )
    sel = np.isin(y, ok)
    clf = make_estimator(estimator, seed=seed, n_jobs=n_jobs, class_weight=class_weight)
    clf.fit(X[sel], y[sel])
    m = dict(meta or {})
    m.setdefault("n_train", int(sel.sum()))
    m.setdefault("train_counts", {PARK_CLASSES[int(c) - 1]: int(n) for c, n in zip(codes, counts) if c in ok})
    log.info("trained %s on %d pixels, classes %s", estimator, sel.sum(), ok.tolist())
    return LandcoverModel(estimator=clf, spec=spec, meta=m)
