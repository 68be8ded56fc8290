"""Per-pixel features for land-cover classification: bands, indices, multi-date statistics, context.

A :class:`FeatureSpec` says what to compute; :meth:`FeatureSpec.compute` turns a reflectance cube
``(time, band, y, x)`` (NaN = cloud / no data) into a feature array ``(y, x, feature)``. The same spec is
stored with a trained model, so prediction computes exactly the features the model was trained on, block
by block (the spatial context needs a halo of :attr:`FeatureSpec.halo` pixels, which
:func:`parkscan.models.landcover.predict.predict_cube` supplies with ``map_overlap``).

Context features (top-hats of brightness and NDVI, local NDVI spread) are off by default: on the real
Slovenia labels they helped the artificial-surface class only a little; see docs/readme/landcover.md.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage as ndi

from .indices import INDICES

__all__ = ["FeatureSpec", "S2_BANDS", "DEFAULT_BANDS"]

S2_BANDS: tuple[str, ...] = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")
"""The Sentinel-2 L2A bands :func:`parkscan.sources.imagery.open_imagery` delivers (10/20 m bands)."""

DEFAULT_BANDS: tuple[str, ...] = ("B02", "B03", "B04", "B08", "B11", "B12")
"""Bands used by the default feature spec (present in both Sentinel-2 and Landsat)."""


def _nanstat(a: np.ndarray, stat: str) -> np.ndarray:
    if a.shape[0] == 1 and (stat in ("median", "min", "max", "mean") or stat.startswith("p")):
        return a[0].copy()  # one date: every statistic of one value is that value (NaN stays NaN)
    if stat == "std" and a.shape[0] == 1:
        return np.where(np.isnan(a[0]), np.nan, 0).astype(a.dtype)
    if not np.isnan(a).any():  # no clouds in this block: the plain reductions are 5-20× faster than the nan* ones
        if stat == "median":
            return np.median(a, axis=0)
        if stat == "min":
            return a.min(axis=0)
        if stat == "max":
            return a.max(axis=0)
        if stat == "std":
            return a.std(axis=0)
        if stat == "mean":
            return a.mean(axis=0)
        if stat.startswith("p"):
            return np.percentile(a, float(stat[1:]), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if stat == "median":
            return np.nanmedian(a, axis=0)
        if stat == "min":
            return np.nanmin(a, axis=0)
        if stat == "max":
            return np.nanmax(a, axis=0)
        if stat == "std":
            return np.nanstd(a, axis=0)
        if stat == "mean":
            return np.nanmean(a, axis=0)
        if stat.startswith("p"):
            return np.nanpercentile(a, float(stat[1:]), axis=0)
    raise ValueError(f"unknown statistic {stat!r}")


@dataclass(frozen=True)
class FeatureSpec:
    """What features to compute from a reflectance cube.

    Examples
    --------
    >>> spec = FeatureSpec(bands=("B04", "B08"), indices=("NDVI",), stats=("median",), index_stats=("median",))
    >>> cube = np.random.default_rng(0).uniform(0.01, 0.5, (2, 2, 4, 5)).astype("float32")
    >>> spec.compute(cube).shape
    (4, 5, 3)
    >>> spec.names
    ('B04_median', 'B08_median', 'NDVI_median')
    """

    bands: tuple[str, ...] = DEFAULT_BANDS
    """Input band names, in the order of the cube's band axis."""
    indices: tuple[str, ...] = ("NDVI", "NDBI", "MNDWI", "BSI")
    """Spectral indices (keys of :data:`parkscan.models.landcover.indices.INDICES`)."""
    stats: tuple[str, ...] = ("median",)
    """Per-band statistics over time (median, mean, min, max, std, pNN)."""
    index_stats: tuple[str, ...] = ("median", "min", "max")
    """Per-index statistics over time (only the first is used when there is a single date)."""
    context: tuple[int, ...] = ()
    """Window sizes (pixels) of the context features; empty = none."""
    extra: dict = field(default_factory=dict, compare=False, hash=False)
    """Free-form notes stored with the model (e.g. how it was chosen)."""

    def __post_init__(self):
        for name in self.indices:
            if name not in INDICES:
                raise ValueError(f"unknown index {name!r}; known: {', '.join(INDICES)}")
            missing = set(INDICES[name][1]) - set(self.bands)
            if missing:
                raise ValueError(f"index {name} needs bands {sorted(missing)} that are not in bands={self.bands}")

    @property
    def halo(self) -> int:
        """Pixels of neighbourhood each output pixel depends on."""
        return 2 * (max(self.context) // 2) if self.context else 0

    @property
    def names(self) -> tuple[str, ...]:
        """Feature names in output order."""
        out = [f"{b}_{s}" for b in self.bands for s in self.stats]
        out += [f"{i}_{s}" for i in self.indices for s in self.index_stats]
        for size in self.context:
            out += [f"bright_tophat{size}", f"bright_blackhat{size}", f"ndvi_blackhat{size}", f"ndvi_localstd{size}"]
        return tuple(out)

    def to_dict(self) -> dict:
        """A JSON-able description (stored with models)."""
        return {"bands": list(self.bands), "indices": list(self.indices), "stats": list(self.stats),
                "index_stats": list(self.index_stats), "context": list(self.context)}

    @classmethod
    def from_dict(cls, d: dict) -> "FeatureSpec":
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: tuple(v) for k, v in d.items() if k in ("bands", "indices", "stats", "index_stats", "context")})

    def compute(self, cube: np.ndarray) -> np.ndarray:
        """Features ``(y, x, n_features)`` float32 from a cube ``(time, band, y, x)``.

        NaN inputs (clouds) are ignored by the temporal statistics; pixels without any valid
        observation get NaN features (the model predicts "no data" there).
        """
        cube = np.ascontiguousarray(cube, dtype="float32")  # band planes contiguous: index maths 3-4× faster on strided views
        if cube.ndim == 3:
            cube = cube[None]
        if cube.shape[1] != len(self.bands):
            raise ValueError(f"cube has {cube.shape[1]} bands, the feature spec expects {len(self.bands)} ({self.bands})")
        bands = {b: cube[:, i] for i, b in enumerate(self.bands)}
        feats = [_nanstat(bands[b], s) for b in self.bands for s in self.stats]
        idx = {}
        for name in self.indices:
            v = INDICES[name][0](bands)
            idx[name] = v
            stats = self.index_stats if cube.shape[0] > 1 else (self.index_stats[0],) * len(self.index_stats)
            feats += [_nanstat(v, s) for s in stats]
        if self.context:
            vis = [b for b in ("B02", "B03", "B04", "B08", "B11", "B12") if b in bands]
            bright = np.nan_to_num(_nanstat(np.mean([bands[b] for b in vis], axis=0), "median"), nan=0.0)
            nd = np.nan_to_num(_nanstat(idx["NDVI"], "median") if "NDVI" in idx else bright, nan=0.0)
            for size in self.context:
                fp = (size, size)
                feats.append(bright - ndi.grey_opening(bright, size=fp))
                feats.append(ndi.grey_closing(bright, size=fp) - bright)
                feats.append(ndi.grey_closing(nd, size=fp) - nd)
                m = ndi.uniform_filter(nd, size)
                feats.append(np.sqrt(np.maximum(ndi.uniform_filter(nd * nd, size) - m * m, 0)))
        return np.stack(feats, axis=-1).astype("float32")
