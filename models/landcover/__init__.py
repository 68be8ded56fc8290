"""Land cover and land-use change: features, models, dask prediction, honest accuracy, change detection.

Public API
----------
- :class:`FeatureSpec` — bands, indices, temporal statistics, context features.
- :func:`train_model`, :class:`LandcoverModel`, :func:`load_model` — fit, save (versioned), load.
- :func:`train_from_dataset`, :func:`labels_from_polygons`, :func:`labels_from_raster` — training with blocked CV.
- :func:`predict_cube_dask`, :func:`predict_features_dask`, :func:`predict_dataset` — chunked prediction.
- :func:`classify_rules` — the no-label fallback.
- :func:`block_folds`, :func:`accuracy_report` — spatially blocked CV and metrics.
- :func:`estimate`, :func:`sample_size`, :func:`allocate`, :func:`stratified_sample` — Olofsson et al. (2014).
- :func:`detect_change`, :func:`otsu_threshold`, :func:`apply_mmu`, :func:`change_polygons` — change.
- :data:`PARK_CLASSES`, :func:`map_classes` — the park class set and schema mapping.
"""
from __future__ import annotations

from .accuracy import AccuracyReport, accuracy_report, block_folds
from .change import ChangeResult, apply_mmu, change_polygons, detect_change, otsu_threshold
from .classes import CLASS_CODES, PARK_CLASSES, SCHEMAS, map_classes
from .features import FeatureSpec
from .model import LandcoverModel, load_model, train_model
from .olofsson import AreaEstimate, allocate, estimate, sample_size, stratified_sample
from .predict import predict_cube_dask, predict_dataset, predict_features_dask
from .rules import classify_rules
from .training import labels_from_polygons, labels_from_raster, train_from_dataset

__all__ = [
    "AccuracyReport", "accuracy_report", "block_folds", "ChangeResult", "apply_mmu", "change_polygons", "detect_change",
    "otsu_threshold", "CLASS_CODES", "PARK_CLASSES", "SCHEMAS", "map_classes", "FeatureSpec", "LandcoverModel",
    "load_model", "train_model", "AreaEstimate", "allocate", "estimate", "sample_size", "stratified_sample",
    "predict_cube_dask", "predict_dataset", "predict_features_dask", "classify_rules", "labels_from_polygons",
    "labels_from_raster", "train_from_dataset",
]
