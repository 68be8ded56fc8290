"""Training data from labelled polygons or a reference raster, and training with spatially blocked CV.

:func:`train_from_dataset` fits the model on every labelled pixel and stores, with the model, the confusion
matrix of a spatially blocked cross-validation (the accuracy the screening reports and uses for areas ± CI).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from parkscan.aoi.errors import ModelError, SourceIOError

from .accuracy import accuracy_report, block_folds
from .analysis import cube_of
from .classes import PARK_CLASSES, class_code, map_classes
from .features import FeatureSpec
from .model import LandcoverModel, make_estimator, train_model

__all__ = ["labels_from_polygons", "labels_from_raster", "train_from_dataset", "cv_predict"]

log = logging.getLogger(__name__)


def labels_from_polygons(path: str | Path, like, *, field: str = "class", schema: str | None = None) -> np.ndarray:
    """Rasterize labelled polygons (GeoJSON/GPKG/Shapefile with a class field) onto the grid of ``like``.

    Class values may be park class names or aliases (``urban``, ``耕地``, ...), or codes of ``schema``.
    """
    import geopandas as gpd
    from rasterio.features import rasterize

    try:
        gdf = gpd.read_file(path)
    except (OSError, ValueError) as err:
        raise SourceIOError(f"{path}: cannot read the labelled polygons ({err})") from err
    if field not in gdf.columns:
        raise ModelError(f"{path}: no field {field!r}; columns are {', '.join(map(str, gdf.columns))} — use --class-field")
    if gdf.crs is None:
        raise ModelError(f"{path}: the polygons have no CRS; save them with one (e.g. EPSG:4326)")
    gdf = gdf.to_crs(like.rio.crs)
    if schema:
        codes = map_classes(gdf[field].to_numpy(), schema)
    else:
        try:
            codes = np.array([class_code(v) for v in gdf[field]], np.uint8)
        except ModelError as err:
            raise ModelError(f"{path}, field {field!r}: {err}") from err
    shape = (like.sizes["y"], like.sizes["x"])
    shapes = [(g, int(c)) for g, c in zip(gdf.geometry, codes) if c and g is not None and not g.is_empty]
    if not shapes:
        raise ModelError(f"{path}: no labelled polygon with a usable class")
    return rasterize(shapes, out_shape=shape, transform=like.rio.transform(), fill=0, dtype="uint8")


def labels_from_raster(path: str | Path, like, *, schema: str = "worldcover") -> np.ndarray:
    """A reference raster (WorldCover / Dynamic World export, ...) resampled (nearest) to the grid of ``like``."""
    import rioxarray
    from rasterio.enums import Resampling

    try:
        ref = rioxarray.open_rasterio(path).squeeze("band", drop=True)
    except (OSError, ValueError) as err:
        raise SourceIOError(f"{path}: cannot read the reference raster ({err})") from err
    ref = ref.rio.reproject_match(like, resampling=Resampling.nearest)
    return map_classes(np.asarray(ref.values), schema)


def cv_predict(features: np.ndarray, labels: np.ndarray, folds: np.ndarray, *, estimator: str = "rf", seed: int = 0,
               n_jobs: int = 1) -> np.ndarray:
    """Out-of-fold class codes of the labelled pixels (0 elsewhere) under the given spatial folds."""
    H, W = labels.shape
    X = features.reshape(H * W, -1)
    y = labels.ravel()
    f = folds.ravel()
    ok = (y > 0) & np.isfinite(X).all(1)
    out = np.zeros(H * W, np.uint8)
    for k in np.unique(f[ok]):
        tr, te = ok & (f != k), ok & (f == k)
        if len(np.unique(y[tr])) < 2 or not te.any():
            continue
        clf = make_estimator(estimator, seed=seed, n_jobs=n_jobs).fit(X[tr], y[tr])
        out[te] = clf.predict(X[te])
    return out.reshape(H, W)


def train_from_dataset(ds, labels: np.ndarray, *, spec: FeatureSpec | None = None, n_folds: int = 4, block_px: int = 50,
                       estimator: str = "rf", seed: int = 0, n_jobs: int = 1, description: str = "",
                       max_per_class: int = 5000) -> LandcoverModel:
    """Train on an imagery Dataset and a label raster on its grid; store the blocked-CV accuracy with the model.

    At most ``max_per_class`` labelled pixels per class (random, seeded) are used, for CV and for the final fit:
    neighbouring pixels carry little new information and a reference raster can label millions of them.
    """
    spec = spec or FeatureSpec(bands=tuple(b for b in ("B02", "B03", "B04", "B08", "B11", "B12") if b in ds.data_vars))
    cube, bands = cube_of(ds, spec.bands)
    if tuple(bands) != tuple(spec.bands):
        raise ModelError(f"the imagery lacks bands {sorted(set(spec.bands) - set(bands))} needed by the features")
    feats = spec.compute(cube)
    labels = np.asarray(labels)
    if labels.shape != feats.shape[:2]:
        raise ModelError(f"labels {labels.shape} and imagery {feats.shape[:2]} are on different grids")
    rng = np.random.default_rng(seed)
    flat = labels.ravel().copy()
    for c in np.unique(flat[flat > 0]):
        idx = np.flatnonzero(flat == c)
        if idx.size > max_per_class:
            flat[rng.choice(idx, idx.size - max_per_class, replace=False)] = 0
    labels = flat.reshape(labels.shape)
    folds = block_folds(labels.shape, n_folds=n_folds, block=block_px, seed=seed)
    oof = cv_predict(feats, labels, folds, estimator=estimator, seed=seed, n_jobs=n_jobs)
    ok = (labels > 0) & (oof > 0)
    cv = None
    if ok.any():
        rep = accuracy_report(labels[ok], oof[ok], classes=sorted(set(np.unique(labels[labels > 0]))))
        cv = rep.to_dict({i + 1: n for i, n in enumerate(PARK_CLASSES)})
        log.info("blocked CV (%d folds of %d px blocks): OA %.3f, kappa %.3f", n_folds, block_px, rep.oa, rep.kappa)
    meta = {"description": description or f"random forest on {len(spec.names)} features",
            "cv": cv, "cv_source": f"{n_folds}-fold spatially blocked CV ({block_px}-pixel blocks) of the training labels",
            "dates": ds.attrs.get("dates", []), "files": ds.attrs.get("files", [])}
    return train_model(feats, labels, spec, estimator=estimator, seed=seed, n_jobs=n_jobs, meta=meta)
