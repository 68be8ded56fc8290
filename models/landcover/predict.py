"""Chunked, parallel prediction with dask: bounded memory for a full 10980² Sentinel-2 tile.

The model enters the task graph once (``dask.delayed`` with a fixed key, or ``client.scatter`` when a
``distributed`` client is given) and every block task receives it; features are computed inside each block
(with a halo for context features via ``map_overlap``), so no full-tile feature array ever exists and there is
no Python loop over pixels.
"""
from __future__ import annotations

import logging

import numpy as np

from .classes import NODATA
from .model import LandcoverModel, require_dates

__all__ = ["balanced_chunks", "predict_features_dask", "predict_cube_dask", "predict_dataset"]

log = logging.getLogger(__name__)


def balanced_chunks(n: int, chunk: int) -> tuple[int, ...]:
    """Split ``n`` pixels into ``ceil(n / chunk)`` blocks of (nearly) equal size, none larger than ``chunk``.

    Equal blocks keep both threads busy to the end: 4000 px with ``chunk=1024`` gives 4 × 1000 instead of
    3 × 1024 + 928 (measured on 2 cores in bench/bench_landcover.py).

    Examples
    --------
    >>> balanced_chunks(4000, 1024)
    (1000, 1000, 1000, 1000)
    >>> balanced_chunks(10, 4)
    (4, 3, 3)
    """
    k = max(1, -(-n // max(int(chunk), 1)))
    base, extra = divmod(n, k)
    return tuple(base + 1 if i < extra else base for i in range(k))


def _model_handle(model: LandcoverModel, client=None):
    import dask

    if client is not None:
        fut = client.scatter(model, broadcast=True, hash=False)
        return fut
    return dask.delayed(model, pure=True, traverse=False)


def predict_features_dask(model: LandcoverModel, feats, *, chunk: int = 1024, client=None):
    """Class codes ``(y, x)`` (dask uint8) from a feature array ``(y, x, n_features)`` (numpy or dask).

    Parameters
    ----------
    model : LandcoverModel
        The fitted model.
    feats : array-like
        Features, last axis = features (the order of ``model.spec.names``).
    chunk : int
        Block edge in pixels (one block = ``chunk² × n_features × 4`` bytes of features).
    client : distributed.Client, optional
        Scatter the model to its workers once instead of embedding it in the graph.
    """
    import dask.array as da

    ch = (balanced_chunks(feats.shape[0], chunk), balanced_chunks(feats.shape[1], chunk), (feats.shape[2],))
    if not isinstance(feats, da.Array):
        feats = da.from_array(feats, chunks=ch)
    else:
        feats = feats.rechunk(ch)
    handle = _model_handle(model, client)
    if model.thinning:  # the thinning rule looks two pixels away: blocks need that halo to equal the whole array
        from .thinning import HALO

        depth = {0: HALO, 1: HALO, 2: 0}
        padded = da.overlap.overlap(feats, depth=depth, boundary="none")
        out = da.map_blocks(_predict_block, padded, handle, dtype=np.uint8, drop_axis=2, meta=np.empty((0, 0), np.uint8),
                            chunks=padded.chunks[:2])
        return da.overlap.trim_internal(out, {0: HALO, 1: HALO}, boundary="none")
    out = da.map_blocks(_predict_block, feats, handle, dtype=np.uint8, drop_axis=2, meta=np.empty((0, 0), np.uint8))
    return out


def _predict_block(block: np.ndarray, model: LandcoverModel) -> np.ndarray:
    return model.predict_features(np.asarray(block, dtype="float32"))


def _predict_cube_block(block: np.ndarray, model: LandcoverModel, doy=None) -> np.ndarray:
    # block: (time, band, y, x) with halo; returns (y, x)
    return model.predict_cube(block, doy)[None, None]


def day_of_year(ds) -> list[int] | None:
    """Day of year of each scene of an imagery Dataset (``None`` without a datetime ``time`` coordinate)."""
    import pandas as pd

    if "time" not in ds.coords:
        return None
    try:
        return [int(v) for v in pd.DatetimeIndex(np.atleast_1d(ds["time"].values)).dayofyear]
    except (TypeError, ValueError):
        return None


def predict_cube_dask(model: LandcoverModel, cube, *, chunk: int = 1024, client=None, doy=None):
    """Class codes ``(y, x)`` (dask uint8) from a reflectance cube ``(time, band, y, x)`` (numpy or dask).

    Bands must be in the order of ``model.spec.bands``. Features are computed per block with a halo of
    ``model.spec.halo`` pixels, so the result equals :meth:`LandcoverModel.predict_cube` on the whole array.

    Examples
    --------
    >>> # labels = predict_cube_dask(model, cube, chunk=512).compute()
    """
    import dask.array as da

    ch = (cube.shape[0], cube.shape[1], balanced_chunks(cube.shape[2], chunk), balanced_chunks(cube.shape[3], chunk))
    if not isinstance(cube, da.Array):
        cube = da.from_array(np.asarray(cube, dtype="float32"), chunks=ch)
    else:
        cube = cube.rechunk(ch)
    handle = _model_handle(model, client)
    if model.thinning:
        return _predict_cube_thinned(model, handle, cube, doy)
    halo = model.halo
    if halo:
        depth = {0: 0, 1: 0, 2: halo, 3: halo}
        padded = da.overlap.overlap(cube, depth=depth, boundary="reflect")
        res = da.map_blocks(_predict_cube_block, padded, handle, doy, dtype=np.uint8,
                            chunks=((1,), (1,)) + padded.chunks[2:], meta=np.empty((0, 0, 0, 0), np.uint8))
        res = da.overlap.trim_internal(res, depth, boundary="reflect")
    else:
        res = da.map_blocks(_predict_cube_block, cube, handle, doy, dtype=np.uint8, chunks=((1,), (1,)) + cube.chunks[2:],
                            meta=np.empty((0, 0, 0, 0), np.uint8))
    return res[0, 0]


def _proba_cube_block(block: np.ndarray, model: LandcoverModel, doy=None) -> np.ndarray:
    # (time, band, y, x) with the feature halo → (n_classes + 1, 1, y, x): probabilities and the finite flag
    proba, finite = model.predict_proba_features(model.spec.compute(block, doy))
    return np.concatenate([np.moveaxis(proba, -1, 0), finite[None].astype(np.float32)], 0)[:, None]


def _thin_block(block: np.ndarray, model: LandcoverModel) -> np.ndarray:
    from .thinning import apply_thinning

    finite = block[-1] > 0.5
    out = apply_thinning(np.moveaxis(block[:-1], 0, -1), model.classes.astype(np.uint8), model.thinning, valid=finite)
    return np.where(finite, out, NODATA).astype(np.uint8)


def _predict_cube_thinned(model: LandcoverModel, handle, cube, doy):
    """Two passes: class probabilities per block (feature halo, reflected at the image edge like the
    whole-array features), then the thinning rule per block with a halo of its own and nothing beyond the
    image edge (as on the whole array)."""
    import dask.array as da

    from .thinning import HALO

    k = len(model.classes) + 1
    h = model.spec.halo
    src = da.overlap.overlap(cube, depth={0: 0, 1: 0, 2: h, 3: h}, boundary="reflect") if h else cube
    proba = da.map_blocks(_proba_cube_block, src, handle, doy, dtype=np.float32, chunks=((k,), (1,)) + src.chunks[2:],
                          meta=np.empty((0, 0, 0, 0), np.float32))
    if h:
        proba = da.overlap.trim_internal(proba, {0: 0, 1: 0, 2: h, 3: h}, boundary="reflect")
    proba = proba[:, 0]
    padded = da.overlap.overlap(proba, depth={0: 0, 1: HALO, 2: HALO}, boundary="none")
    out = da.map_blocks(_thin_block, padded, handle, dtype=np.uint8, drop_axis=0, chunks=padded.chunks[1:],
                        meta=np.empty((0, 0), np.uint8))
    return da.overlap.trim_internal(out, {0: HALO, 1: HALO}, boundary="none")


def predict_dataset(model: LandcoverModel, ds, *, chunk: int = 1024, client=None):
    """Class map (``xarray.DataArray`` uint8, dims y, x, CRS kept) from an imagery Dataset.

    ``ds`` has one reflectance variable per band (dims time, y, x), as :func:`parkscan.sources.imagery.open_imagery`
    returns. Missing bands raise :class:`~parkscan.aoi.errors.ModelError`.
    """
    import dask.array as da
    import xarray as xr

    from parkscan.aoi.errors import ModelError

    missing = [b for b in model.spec.bands if b not in ds.data_vars]
    if missing:
        raise ModelError(f"the imagery lacks bands {missing} that the model needs ({model.spec.bands})")
    arrs = []
    for b in model.spec.bands:
        v = ds[b]
        if "time" not in v.dims:
            v = v.expand_dims("time")
        v = v.transpose("time", "y", "x").data
        arrs.append(v if isinstance(v, da.Array) else da.from_array(np.asarray(v, "float32"), chunks=(-1, chunk, chunk)))
    cube = da.stack(arrs, axis=1)
    doy = day_of_year(ds)
    require_dates(model.spec, doy, "widen the period or use another model")  # before building the graph
    labels = predict_cube_dask(model, cube, chunk=chunk, client=client, doy=doy)
    out = xr.DataArray(labels, dims=("y", "x"), coords={"y": ds["y"], "x": ds["x"]}, name="landcover",
                       attrs={"nodata": NODATA})
    if hasattr(ds, "rio") and ds.rio.crs is not None:
        out = out.rio.write_crs(ds.rio.crs).rio.write_nodata(NODATA)
    return out
