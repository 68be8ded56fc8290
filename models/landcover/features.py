"""Per-pixel features for land-cover classification: bands, indices, multi-date statistics, context.

A :class:`FeatureSpec` says what to compute; :meth:`FeatureSpec.compute` turns a reflectance cube
``(time, band, y, x)`` (NaN = cloud / no data) into a feature array ``(y, x, feature)``. The same spec is
stored with a trained model, so prediction computes exactly the features the model was trained on, block
by block (the spatial context needs a halo of :attr:`FeatureSpec.halo` pixels, which
:func:`parkscan.models.landcover.predict.predict_cube` supplies with ``map_overlap``).

Context features (top-hats of brightness and NDVI, local NDVI spread), directional line top-hats (thin
roads), ridge features and an annual harmonic fit of the NDVI series are off by default; each is a switch
of the spec because each was measured on the real Slovenia labels (bench/eval_landcover.py,
docs/readme/landcover.md): line top-hats and the NDVI harmonics are part of the best recipe there, while
plain neighbourhood means made the artificial-surface class worse.
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
    lines: tuple[int, ...] = ()
    """Lengths (pixels) of the directional line top-hats of brightness, −NDVI and NDBI; empty = none.

    An opening along a line of length n (horizontal, vertical, two diagonals; the best of the four) keeps a
    one-pixel road that a 3×3 opening removes: ``line − open3`` is high on thin linear structures,
    ``image − line`` on bright blobs that are not lines."""
    ridges: bool = False
    """Ridge features: each of brightness, −NDVI and NDBI minus the larger of its two neighbours across each of
    four directions, and the largest of those (a road pixel is a ridge across the road)."""
    harmonics: int = 0
    """Annual harmonics fitted to the NDVI series (needs dated scenes, ``doy`` in :meth:`compute`): mean,
    cos/sin coefficients, amplitude of each harmonic and the RMS residual. 0 = none."""
    extra: dict = field(default_factory=dict, compare=False, hash=False)
    """Free-form notes stored with the model (e.g. how it was chosen)."""

    def _check_indices(self):
        for name in self.indices:
            if name not in INDICES:
                raise ValueError(f"unknown index {name!r}; known: {', '.join(INDICES)}")
            missing = set(INDICES[name][1]) - set(self.bands)
            if missing:
                raise ValueError(f"index {name} needs bands {sorted(missing)} that are not in bands={self.bands}")

    def __post_init__(self):
        self._check_indices()
        if (self.lines or self.ridges or self.harmonics) and not {"B04", "B08"} <= set(self.bands):
            raise ValueError("line, ridge and harmonic features need bands B04 and B08 (NDVI)")
        if any(n < 3 for n in self.lines):
            raise ValueError(f"line lengths must be >= 3 pixels, got {self.lines}")
        if self.harmonics < 0 or self.harmonics > 3:
            raise ValueError(f"harmonics must be 0-3, got {self.harmonics}")

    @property
    def min_dates(self) -> int:
        """Dated scenes needed by :meth:`compute` (the harmonic fit needs more dates than coefficients)."""
        return 2 * self.harmonics + 3 if self.harmonics else 1

    def check_dates(self, doy, n_scenes: int | None = None) -> None:
        """Raise ``ValueError`` when the harmonic features cannot be computed from scenes dated ``doy``."""
        if not self.harmonics:
            return
        if doy is None or (n_scenes is not None and len(doy) != n_scenes):
            raise ValueError("the NDVI harmonic fit needs dated scenes (the day of year of every scene)")
        if len(doy) < self.min_dates:
            raise ValueError(f"the NDVI harmonic fit ({self.harmonics} harmonics) needs at least {self.min_dates} dated "
                             f"scenes, the imagery has {len(doy)}")

    @property
    def halo(self) -> int:
        """Pixels of neighbourhood each output pixel depends on."""
        h = 2 * (max(self.context) // 2) if self.context else 0
        if self.lines:
            h = max(h, 2 * (max(self.lines) // 2), 2)
        if self.ridges:
            h = max(h, 1)
        return h

    @property
    def names(self) -> tuple[str, ...]:
        """Feature names in output order."""
        out = [f"{b}_{s}" for b in self.bands for s in self.stats]
        out += [f"{i}_{s}" for i in self.indices for s in self.index_stats]
        for size in self.context:
            out += [f"bright_tophat{size}", f"bright_blackhat{size}", f"ndvi_blackhat{size}", f"ndvi_localstd{size}"]
        for img in _STRUCT_IMAGES if (self.lines or self.ridges) else ():
            out += [f"{img}_line{n}_{what}" for n in self.lines for what in ("thin", "blob")]
            if self.ridges:
                out += [f"{img}_ridge_{d}" for d in ("ew", "ns", "nwse", "nesw", "max")]
        if self.harmonics:
            out += ["ndvi_h0"] + [f"ndvi_h{j}{f}" for j in range(1, self.harmonics + 1) for f in ("cos", "sin")]
            out += [f"ndvi_h{j}_amp" for j in range(1, self.harmonics + 1)] + ["ndvi_h_rms"]
        return tuple(out)

    def to_dict(self) -> dict:
        """A JSON-able description (stored with models)."""
        return {"bands": list(self.bands), "indices": list(self.indices), "stats": list(self.stats),
                "index_stats": list(self.index_stats), "context": list(self.context), "lines": list(self.lines),
                "ridges": self.ridges, "harmonics": self.harmonics}

    @classmethod
    def from_dict(cls, d: dict) -> "FeatureSpec":
        """Inverse of :meth:`to_dict` (models saved before lines/ridges/harmonics existed load with them off)."""
        kw = {k: tuple(v) for k, v in d.items() if k in ("bands", "indices", "stats", "index_stats", "context", "lines")}
        return cls(**kw, ridges=bool(d.get("ridges", False)), harmonics=int(d.get("harmonics", 0)))

    def compute(self, cube: np.ndarray, doy=None) -> np.ndarray:
        """Features ``(y, x, n_features)`` float32 from a cube ``(time, band, y, x)``.

        NaN inputs (clouds) are ignored by the temporal statistics; pixels without any valid
        observation get NaN features (the model predicts "no data" there). ``doy`` (day of year of each
        scene) is needed only by the harmonic features; a pixel with too few cloud-free dates for the fit
        gets zero coefficients and an RMS of −1 (a value no fit produces), so the model can tell it apart.
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
        bright = nd_med = ndvi_t = None
        if self.lines or self.ridges or self.harmonics:
            ndvi_t = idx["NDVI"] if "NDVI" in idx else INDICES["NDVI"][0](bands)
        if self.context or self.lines or self.ridges:
            vis = [b for b in ("B02", "B03", "B04", "B08", "B11", "B12") if b in bands]
            bright = np.nan_to_num(_nanstat(np.mean([bands[b] for b in vis], axis=0), "median"), nan=0.0)
            if ndvi_t is not None or "NDVI" in idx:
                nd_med = np.nan_to_num(_nanstat(idx.get("NDVI", ndvi_t), "median"), nan=0.0)
        if self.context:
            nd = nd_med if "NDVI" in idx else bright  # without an NDVI index the context uses brightness twice
            for size in self.context:
                fp = (size, size)
                feats.append(bright - ndi.grey_opening(bright, size=fp))
                feats.append(ndi.grey_closing(bright, size=fp) - bright)
                feats.append(ndi.grey_closing(nd, size=fp) - nd)
                m = ndi.uniform_filter(nd, size)
                feats.append(np.sqrt(np.maximum(ndi.uniform_filter(nd * nd, size) - m * m, 0)))
        if self.lines or self.ridges:
            if "B11" in bands:
                bu = np.nan_to_num(_nanstat(idx["NDBI"] if "NDBI" in idx else INDICES["NDBI"][0](bands), "median"), nan=0.0)
            else:  # no SWIR (e.g. an RGB+NIR sensor): a second brightness stands in so the feature count stays fixed
                bu = bright
            for img in (bright, -nd_med, bu):
                if self.lines:
                    feats += line_tophats(img, self.lines)
                if self.ridges:
                    feats += ridges(img)
        if self.harmonics:
            self.check_dates(doy, cube.shape[0])
            feats += harmonic_fit(ndvi_t, np.asarray(doy, float), self.harmonics)
        return np.stack(feats, axis=-1).astype("float32")


_STRUCT_IMAGES = ("bright", "negndvi", "ndbi")


def _line_footprints(n: int) -> list[np.ndarray]:
    eye = np.eye(n, dtype=bool)
    return [np.ones((1, n), bool), np.ones((n, 1), bool), eye, eye[::-1].copy()]


def line_tophats(img: np.ndarray, lengths) -> list[np.ndarray]:
    """Directional line top-hats: for each length n, ``line − open3`` (thin lines) and ``img − line`` (blobs).

    ``line`` is the largest grey opening of ``img`` along a line of n pixels in four directions.

    Examples
    --------
    >>> img = np.zeros((9, 9), "float32"); img[:, 4] = 1  # a one-pixel vertical road
    >>> thin, blob = line_tophats(img, (5,))
    >>> float(thin[4, 4]), float(blob[4, 4]), float(thin[4, 2])
    (1.0, 0.0, 0.0)
    """
    o3 = ndi.grey_opening(img, size=(3, 3))
    out = []
    for n in lengths:
        line = np.max([ndi.grey_opening(img, footprint=fp) for fp in _line_footprints(n)], axis=0)
        out += [line - o3, img - line]
    return out


_PAIRS = (((0, 1), (0, -1)), ((1, 0), (-1, 0)), ((1, 1), (-1, -1)), ((1, -1), (-1, 1)))


def _shift(img: np.ndarray, dy: int, dx: int) -> np.ndarray:
    p = np.pad(img, 1, mode="symmetric")  # = scipy "reflect" and dask's "reflect" halo: equal block by block
    return p[1 + dy:1 + dy + img.shape[0], 1 + dx:1 + dx + img.shape[1]]


def ridges(img: np.ndarray) -> list[np.ndarray]:
    """``img`` minus the larger of its two neighbours across each of four directions, and the largest of those.

    Examples
    --------
    >>> img = np.zeros((5, 5)); img[:, 2] = 1
    >>> [float(r[2, 2]) for r in ridges(img)]
    [1.0, 0.0, 1.0, 1.0, 1.0]
    """
    r = [img - np.maximum(_shift(img, *a), _shift(img, *b)) for a, b in _PAIRS]
    return r + [np.max(r, axis=0)]


def harmonic_fit(series: np.ndarray, doy: np.ndarray, k: int) -> list[np.ndarray]:
    """Per-pixel weighted least-squares fit of ``series`` ``(time, y, x)`` (NaN = cloud) on ``k`` annual harmonics.

    Returns the coefficients (mean, cos/sin of each harmonic), the amplitude of each harmonic and the RMS
    residual. Pixels with fewer valid dates than ``2k + 3`` get zeros and an RMS of −1. One batched solve of
    the (2k+1)² normal equations per pixel: no Python loop over pixels.

    Examples
    --------
    >>> doy = np.arange(0, 365, 20.0)
    >>> s = (0.5 + 0.3 * np.cos(2 * np.pi * doy / 365.25))[:, None, None] * np.ones((1, 2, 2))
    >>> f = harmonic_fit(s, doy, 1)
    >>> [round(float(v[0, 0]), 3) + 0.0 for v in f]
    [0.5, 0.3, 0.0, 0.3, 0.0]
    """
    T, H, W = series.shape
    y = series.reshape(T, -1).astype("float64")
    good = np.isfinite(y)
    y = np.where(good, y, 0.0)
    g = good.astype("float64")
    t = 2 * np.pi * np.asarray(doy, "float64") / 365.25
    A = np.stack([np.ones_like(t)] + [f(j * t) for j in range(1, k + 1) for f in (np.cos, np.sin)], -1)  # (T, p)
    M = np.einsum("tp,tq,tn->npq", A, A, g) + 1e-9 * np.eye(A.shape[1])
    b = np.einsum("tp,tn->np", A, g * y)
    c = np.linalg.solve(M, b[..., None])[..., 0]  # (n, p)
    n = g.sum(0)
    rms = np.sqrt((g * (y - A @ c.T) ** 2).sum(0) / np.maximum(n, 1))
    few = n < A.shape[1] + 2
    c[few] = 0.0
    rms[few] = -1.0
    amp = [np.hypot(c[:, 2 * j - 1], c[:, 2 * j]) for j in range(1, k + 1)]
    return [v.reshape(H, W) for v in list(c.T) + amp + [rms]]
