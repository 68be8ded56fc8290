"""Training data from labelled polygons or a reference raster, and training with spatially blocked CV.

:func:`train_from_dataset` fits the model on every labelled pixel and stores, with the model, the confusion
matrix of a spatially blocked cross-validation (the accuracy the screening reports and uses for areas ± CI).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from parkscan.aoi.errors import ModelError, SourceIOError

from .accuracy import accuracy_report, block_folds
from .analysis import cube_of
from .classes import PARK_CLASSES, class_code, map_classes
from .features import FeatureSpec
from .model import LandcoverModel, make_estimator, require_dates, train_model

__all__ = ["labels_from_polygons", "labels_from_raster", "farmland_mask", "train_from_dataset", "cv_predict", "cv_proba", "edge_pixels"]

ESTIMATOR_NAMES = {"rf": "random forest", "et": "extra-trees", "etgb": "extra-trees + gradient-boosting soft vote"}

log = logging.getLogger(__name__)


def labels_from_polygons(path: str | Path, like, *, field: str = "class", schema: str | None = None) -> np.ndarray:
    """Rasterize labelled polygons (GeoJSON/GPKG/Shapefile with a class field) onto the grid of ``like``.

    Class values may be park class names or aliases (``urban``, ``耕地``, ...), or codes of ``schema``.
    """
    import geopandas as gpd
    from rasterio.features import rasterize

    try:
        gdf = gpd.read_file(path)
    except (OSError, ValueError, RuntimeError) as err:  # pyogrio's DataSourceError is a RuntimeError
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


def farmland_mask(path: str | Path, like, *, codes=None) -> np.ndarray:
    """Registered farmland on the grid of ``like`` (bool), from polygons or a raster.

    Polygons (GeoJSON/GPKG/Shapefile/KML in any CRS — e.g. the cropland parcels of the Third National Land
    Survey 三调 or the permanent basic farmland 永久基本农田 boundaries): every polygon is farmland. A raster
    (any CRS, warped with nearest neighbour): pixels whose value is in ``codes`` (default: any non-zero,
    non-nodata value; ``codes=(40,)`` picks cropland out of an ESA WorldCover export).
    """
    import geopandas as gpd
    from rasterio.features import rasterize

    path = Path(path)
    shape = (like.sizes["y"], like.sizes["x"])
    if path.suffix.lower() in (".tif", ".tiff", ".vrt", ".img"):
        import rioxarray
        from rasterio.enums import Resampling

        try:
            ref = rioxarray.open_rasterio(path, masked=False).squeeze("band", drop=True)
        except (OSError, ValueError) as err:
            raise SourceIOError(f"{path}: cannot read the farmland raster ({err})") from err
        if ref.rio.crs is None:
            raise ModelError(f"{path}: the farmland raster has no CRS; write one (e.g. gdal_edit.py -a_srs EPSG:4326)")
        nodata = ref.rio.nodata
        ref = ref.rio.reproject_match(like, resampling=Resampling.nearest)
        v = np.asarray(ref.values)
        ok = v != nodata if nodata is not None else np.ones(v.shape, bool)
        return ok & (np.isin(v, list(codes)) if codes else v > 0)
    try:
        gdf = gpd.read_file(path)
    except (OSError, ValueError, RuntimeError) as err:  # pyogrio's DataSourceError is a RuntimeError
        raise SourceIOError(f"{path}: cannot read the farmland polygons ({err})") from err
    if gdf.crs is None:
        raise ModelError(f"{path}: the farmland polygons have no CRS; save them with one (e.g. EPSG:4490 or EPSG:4326)")
    geoms = [g for g in gdf.to_crs(like.rio.crs).geometry if g is not None and not g.is_empty]
    if not geoms:
        raise ModelError(f"{path}: no farmland polygon")
    return rasterize([(g, 1) for g in geoms], out_shape=shape, transform=like.rio.transform(), fill=0, dtype="uint8") > 0


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
               n_jobs: int = 1, train_mask: np.ndarray | None = None) -> np.ndarray:
    """Out-of-fold class codes of the labelled pixels (0 elsewhere) under the given spatial folds.

    ``train_mask`` limits the pixels models are fitted on; every labelled pixel of a test fold is scored.
    """
    H, W = labels.shape
    X = features.reshape(H * W, -1)
    y = labels.ravel()
    f = folds.ravel()
    ok = (y > 0) & np.isfinite(X).all(1)
    fit_ok = ok if train_mask is None else ok & np.asarray(train_mask).ravel()
    out = np.zeros(H * W, np.uint8)
    for k in np.unique(f[ok]):
        tr, te = fit_ok & (f != k), ok & (f == k)
        if len(np.unique(y[tr])) < 2 or not te.any():
            continue
        clf = make_estimator(estimator, seed=seed, n_jobs=n_jobs).fit(X[tr], y[tr])
        out[te] = clf.predict(X[te])
    return out.reshape(H, W)


def edge_pixels(labels: np.ndarray, *, min_share: float = 0.10) -> np.ndarray:
    """Labelled pixels of the common classes that touch another label or an unlabelled pixel (3×3): parcel
    and polygon edges, the mixed pixels.

    A class is common when it holds at least ``min_share`` of the labelled pixels; rare classes keep their
    edges (a one-pixel road is all edge). On the Slovenia parcel labels leaving these pixels out of training
    raised artificial-surface F1 (bench/eval_landcover.py); they are still scored in the CV.

    Examples
    --------
    >>> lab = np.array([[2, 2, 2, 2], [2, 2, 2, 2], [2, 2, 3, 3]])
    >>> edge_pixels(lab, min_share=0.5).astype(int).tolist()
    [[0, 0, 0, 0], [0, 1, 1, 1], [0, 1, 0, 0]]
    """
    labels = np.asarray(labels)
    lab = labels[labels > 0]
    if lab.size == 0:
        return np.zeros(labels.shape, bool)
    codes, counts = np.unique(lab, return_counts=True)
    common = codes[counts >= min_share * lab.size]
    edge = ndi.maximum_filter(labels, 3) != ndi.minimum_filter(labels, 3)
    return np.isin(labels, common) & edge


def cv_proba(features: np.ndarray, labels: np.ndarray, folds: np.ndarray, *, estimator: str = "rf", seed: int = 0,
             n_jobs: int = 1, train_mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-fold class probabilities of *every* pixel with finite features (not only the labelled ones).

    Returns ``(proba (y, x, n_classes), classes, finite (y, x))``; a fold's pixels are predicted by the model
    fitted on the other folds. Spatial rules that look at neighbours (:mod:`.thinning`) need the unlabelled
    pixels predicted too.
    """
    H, W = labels.shape
    X = features.reshape(H * W, -1)
    y = labels.ravel()
    f = folds.ravel()
    finite = np.isfinite(X).all(1)
    fit_ok = (y > 0) & finite & (True if train_mask is None else np.asarray(train_mask).ravel())
    classes = np.unique(y[fit_ok])
    P = np.zeros((H * W, len(classes)), np.float32)
    for k in np.unique(f[finite]):
        tr, te = fit_ok & (f != k), finite & (f == k)
        if len(np.unique(y[tr])) < 2 or not te.any():
            continue
        clf = make_estimator(estimator, seed=seed, n_jobs=n_jobs).fit(X[tr], y[tr])
        cols = np.searchsorted(classes, clf.classes_)
        P[np.ix_(np.flatnonzero(te), cols)] = clf.predict_proba(X[te])
    return P.reshape(H, W, -1), classes, finite.reshape(H, W)


def _thinned_cv(P, classes, finite, labels, folds) -> tuple[np.ndarray, dict]:
    """Cross-fitted thinning: each fold thinned by the rule learned on the other folds' predictions; and the
    rule learned on all folds (the one stored with the model)."""
    from .thinning import apply_thinning, learn_thinning

    oof = np.where(finite, classes[P.argmax(-1)], 0)
    out = oof.copy()
    for k in np.unique(folds):
        rules = learn_thinning(oof, labels, where=folds != k)
        if rules:
            t = apply_thinning(P, classes, rules, valid=finite)
            out[folds == k] = t[folds == k]
    return out, learn_thinning(oof, labels)


def train_from_dataset(ds, labels: np.ndarray, *, spec: FeatureSpec | None = None, n_folds: int = 4, block_px: int = 50,
                       estimator: str = "rf", seed: int = 0, n_jobs: int = 1, description: str = "",
                       max_per_class: int = 5000, drop_edges: bool = False, thin: bool = False) -> LandcoverModel:
    """Train on an imagery Dataset and a label raster on its grid; store the blocked-CV accuracy with the model.

    At most ``max_per_class`` labelled pixels per class (random, seeded) are used, for CV and for the final fit:
    neighbouring pixels carry little new information and a reference raster can label millions of them.
    With ``drop_edges``, the :func:`edge_pixels` of the common classes are left out of every fit (the CV
    still scores them). With ``thin``, the label convention of two-pixel runs is learned from out-of-fold
    predictions (:mod:`parkscan.models.landcover.thinning`) and stored with the model; the reported CV is
    cross-fitted (each fold thinned by the rule learned on the others).
    """
    spec = spec or FeatureSpec(bands=tuple(b for b in ("B02", "B03", "B04", "B08", "B11", "B12") if b in ds.data_vars))
    cube, bands = cube_of(ds, spec.bands)
    if tuple(bands) != tuple(spec.bands):
        raise ModelError(f"the imagery lacks bands {sorted(set(spec.bands) - set(bands))} needed by the features")
    from .predict import day_of_year

    doy = day_of_year(ds)
    require_dates(spec, doy, "widen the period or train without --harmonics")
    feats = spec.compute(cube, doy)
    labels = np.asarray(labels)
    if labels.shape != feats.shape[:2]:
        raise ModelError(f"labels {labels.shape} and imagery {feats.shape[:2]} are on different grids")
    # edges are found on the full labels: the subsampling below leaves random unlabelled holes
    keep = ~edge_pixels(labels) if drop_edges else None
    rng = np.random.default_rng(seed)
    flat = labels.ravel().copy()
    for c in np.unique(flat[flat > 0]):
        idx = np.flatnonzero(flat == c)
        if idx.size > max_per_class:
            flat[rng.choice(idx, idx.size - max_per_class, replace=False)] = 0
    labels = flat.reshape(labels.shape)
    folds = block_folds(labels.shape, n_folds=n_folds, block=block_px, seed=seed)
    thinning = None
    if thin:
        P, classes, finite = cv_proba(feats, labels, folds, estimator=estimator, seed=seed, n_jobs=n_jobs, train_mask=keep)
        oof, thinning = _thinned_cv(P, classes, finite, labels, folds)
        oof = np.where(labels > 0, oof, 0).astype(np.uint8)
        log.info("learned thinning of two-pixel runs: %s", thinning or "none")
    else:
        oof = cv_predict(feats, labels, folds, estimator=estimator, seed=seed, n_jobs=n_jobs, train_mask=keep)
    ok = (labels > 0) & (oof > 0)
    cv = None
    if ok.any():
        rep = accuracy_report(labels[ok], oof[ok], classes=sorted(set(np.unique(labels[labels > 0]))))
        cv = rep.to_dict({i + 1: n for i, n in enumerate(PARK_CLASSES)})
        log.info("blocked CV (%d folds of %d px blocks): OA %.3f, kappa %.3f", n_folds, block_px, rep.oa, rep.kappa)
    meta = {"description": description or f"{ESTIMATOR_NAMES.get(estimator, estimator)} on {len(spec.names)} features",
            "estimator": estimator, "drop_edges": drop_edges,
            "thinning": {PARK_CLASSES[int(c) - 1]: v for c, v in (thinning or {}).items()},
            "cv": cv, "cv_source": f"{n_folds}-fold spatially blocked CV ({block_px}-pixel blocks) of the training labels",
            "dates": ds.attrs.get("dates", []), "files": ds.attrs.get("files", [])}
    fit_labels = np.where(keep, labels, 0) if keep is not None else labels
    model = train_model(feats, fit_labels, spec, estimator=estimator, seed=seed, n_jobs=n_jobs, meta=meta)
    model.thinning = thinning or None
    return model
