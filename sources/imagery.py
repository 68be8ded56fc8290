"""Open optical imagery over a park as one convention: ``xarray.Dataset`` of reflectance bands.

:func:`open_imagery` is a dispatcher. Local GeoTIFF/COG files (or a folder of them) and Sentinel-2 L2A
``.SAFE`` folders are read here; an ``http(s)`` STAC URL or a catalogue preset (``earth-search``,
``planetary-computer``, ``cdse``) goes to :func:`parkscan.sources.remote.load_imagery`. Whatever the
source, the result has one float32 variable per band named ``B02 … B12`` (reflectance on a 0–1 scale after
scale/offset), dims ``(time, y, x)``, the park's metric CRS (rioxarray), the window of the park footprint
plus a ring, and NaN where the Sentinel-2 scene classification (SCL) flags no data, saturation, cloud
shadow, cloud, cirrus or snow.
"""
from __future__ import annotations

import logging
import re
from datetime import date, datetime
from pathlib import Path
from typing import Sequence

import numpy as np

from parkscan.aoi.errors import SourceError, SourceIOError
from parkscan.aoi.options import OPTIONS

__all__ = ["open_imagery", "S2_BANDS", "PRESETS", "SCL_MASKED", "parse_period", "image_date", "band_names_of"]

log = logging.getLogger(__name__)

S2_BANDS: tuple[str, ...] = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")
"""Bands delivered, in this order."""
PRESETS = ("earth-search", "planetary-computer", "cdse")
"""Catalogue presets handed to the remote loader."""
SCL_MASKED = (0, 1, 3, 8, 9, 10, 11)
"""SCL classes set to NaN: no data, saturated/defective, cloud shadow, cloud medium/high, thin cirrus, snow."""

_ALIASES = {
    "blue": "B02", "green": "B03", "red": "B04", "rededge1": "B05", "rededge2": "B06", "rededge3": "B07", "nir": "B08",
    "nir08": "B8A", "nir narrow": "B8A", "swir1": "B11", "swir16": "B11", "swir2": "B12", "swir22": "B12", "b8": "B08",
    "b2": "B02", "b3": "B03", "b4": "B04", "b5": "B05", "b6": "B06", "b7": "B07", "b11": "B11", "b12": "B12", "scl": "SCL",
}
_DATE_RE = re.compile(r"(?<!\d)(19|20)(\d{2})-?(\d{2})-?(\d{2})(?!\d)")


def parse_period(period: str | Sequence | None) -> tuple[date | None, date | None]:
    """``"YYYY-MM-DD/YYYY-MM-DD"`` (or a pair, or None) → (start, end) dates.

    Examples
    --------
    >>> parse_period("2023-05-01/2023-07-31")
    (datetime.date(2023, 5, 1), datetime.date(2023, 7, 31))
    """
    if period is None:
        return None, None
    parts = period.split("/") if isinstance(period, str) else list(period)
    if len(parts) != 2:
        raise SourceError(f"period {period!r} is not a date range: it must look like YYYY-MM-DD/YYYY-MM-DD")
    try:
        start, end = (p if isinstance(p, date) else date.fromisoformat(str(p).strip()[:10]) for p in parts)
    except ValueError as err:
        raise SourceError(f"period {period!r} must look like YYYY-MM-DD/YYYY-MM-DD ({err})") from err
    if start > end:
        raise SourceError(f"period {period!r}: the start is after the end")
    return start, end


def image_date(path: str | Path, tags: dict | None = None) -> date | None:
    """Acquisition date from the file name (``…YYYYMMDD…``) or a GDAL date tag."""
    for text in [Path(path).name] + [str(v) for k, v in (tags or {}).items() if "DATE" in k.upper()]:
        m = _DATE_RE.search(text)
        if m:
            try:
                return date(int(m.group(1) + m.group(2)), int(m.group(3)), int(m.group(4)))
            except ValueError:
                continue
    return None


def band_names_of(descriptions: Sequence[str | None], count: int, override: Sequence[str] | None = None) -> list[str]:
    """Canonical band names (B02 …, SCL) from band descriptions, or the override list."""
    if override is not None:
        if len(override) != count:
            raise SourceError(f"band_names has {len(override)} names for a file with {count} bands")
        raw = list(override)
    else:
        raw = [d or "" for d in descriptions]
    out = []
    for i, d in enumerate(raw):
        key = d.strip()  # Landsat names (Blue, NIR, SWIR1, ...) are among the aliases
        key = _ALIASES.get(key.lower(), key.upper() if re.fullmatch(r"b\d+a?", key, re.I) else key)
        if re.fullmatch(r"B\d", key):
            key = f"B0{key[1]}"
        out.append(key or f"band{i + 1}")
    return out


def _window(park, ring_m: float | None):
    ring = OPTIONS["ring_m"] if ring_m is None else ring_m
    return park.to_local(park.footprint).buffer(ring).bounds


def _read_tif(path: Path, park, *, ring_m, resolution, band_names, chunks):
    import rasterio
    import rioxarray  # noqa: F401  (registers .rio)
    import xarray as xr
    from rasterio.enums import Resampling

    try:
        with rasterio.open(path) as src:
            descriptions, count, dtype = src.descriptions, src.count, src.dtypes[0]
            scales, offsets, tags, nodata = src.scales, src.offsets, src.tags(), src.nodata
        da = rioxarray.open_rasterio(path, chunks=chunks, masked=False)
    except rasterio.errors.RasterioIOError as err:
        raise SourceIOError(f"{path}: cannot read the image ({err}); is it a GeoTIFF?") from err
    if da.rio.crs is None:
        raise SourceIOError(f"{path}: the image has no CRS; export it with georeferencing")
    names = band_names_of(descriptions, count, band_names)
    da = da.assign_coords(band=names)
    minx, miny, maxx, maxy = _window(park, ring_m)
    if da.rio.crs != park.crs:
        from pyproj import Transformer

        t = Transformer.from_crs(park.crs, da.rio.crs, always_xy=True)
        xs, ys = t.transform([minx, minx, maxx, maxx], [miny, maxy, miny, maxy])
        pad = 3 * max(abs(float(da.rio.resolution()[0])), abs(float(da.rio.resolution()[1])))
        sub = da.rio.clip_box(min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad)
    else:
        sub = da.rio.clip_box(minx, miny, maxx, maxy)
    grid = park.grid(resolution, ring_m=OPTIONS["ring_m"] if ring_m is None else ring_m)
    scl = sub.sel(band="SCL") if "SCL" in names else None
    refl_names = [n for n in names if n != "SCL"]
    refl = sub.sel(band=refl_names).astype("float32")
    if nodata is not None:
        refl = refl.where(sub.sel(band=refl_names) != nodata)
    sc = np.array([scales[names.index(n)] for n in refl_names], "float32")
    of = np.array([offsets[names.index(n)] for n in refl_names], "float32")
    is_reflectance = True
    if np.all(sc == 1) and np.all(of == 0):
        if np.dtype(dtype).kind in "u" and np.dtype(dtype).itemsize == 2:
            sc[:] = 1e-4  # Sentinel-2 L2A digital numbers
        elif np.dtype(dtype) == np.uint8:
            sc[:] = 1 / 255.0  # display-stretched 8-bit (not reflectance)
            is_reflectance = False
    refl = refl * xr.DataArray(sc, dims="band", coords={"band": refl_names}) + xr.DataArray(of, dims="band", coords={"band": refl_names})
    if scl is not None:
        refl = refl.where(~scl.isin(list(SCL_MASKED)))
        refl.attrs["cloud_fraction"] = _scl_cloud(scl)
    refl = refl.rio.write_crs(sub.rio.crs)
    same_grid = (refl.rio.crs == park.crs and abs(abs(refl.rio.resolution()[0]) - resolution) < 1e-9)
    if not same_grid:
        refl = refl.rio.reproject(park.crs, transform=grid.transform, shape=grid.shape, resampling=Resampling.bilinear,
                                  nodata=np.nan)
    return refl, names, is_reflectance


def _read_safe(path: Path, park, *, ring_m, resolution, chunks):
    """Sentinel-2 L2A .SAFE folder → (band, y, x) DataArray on the park grid."""
    import rioxarray  # noqa: F401
    import xarray as xr
    from rasterio.enums import Resampling

    img = list(path.glob("GRANULE/*/IMG_DATA"))
    if not img:
        raise SourceIOError(f"{path}: no GRANULE/*/IMG_DATA folder; is this a Sentinel-2 L2A .SAFE product?")
    offset = 0.0
    mtd = next(iter(path.glob("MTD_MSIL2A.xml")), None)
    if mtd is not None:
        m = re.search(r"<BOA_ADD_OFFSET[^>]*>(-?\d+)</BOA_ADD_OFFSET>", mtd.read_text(errors="replace"))
        if m:
            offset = float(m.group(1))
    grid = park.grid(resolution, ring_m=OPTIONS["ring_m"] if ring_m is None else ring_m)
    layers = []
    for band in list(S2_BANDS) + ["SCL"]:
        cands = sorted(img[0].glob(f"R10m/*_{band}_10m.jp2")) + sorted(img[0].glob(f"R20m/*_{band}_20m.jp2"))
        if not cands:
            if band == "SCL":
                continue
            raise SourceIOError(f"{path}: band {band} is missing from IMG_DATA")
        da = rioxarray.open_rasterio(cands[0], chunks=chunks).squeeze("band", drop=True)
        resampling = Resampling.nearest if band == "SCL" else Resampling.bilinear
        da = da.rio.reproject(park.crs, transform=grid.transform, shape=grid.shape, resampling=resampling, nodata=0)
        layers.append(da.assign_coords(band=band))
    stack = xr.concat(layers, dim="band")
    refl = stack.sel(band=list(S2_BANDS)).astype("float32")
    refl = ((refl + offset) * 1e-4).where(stack.sel(band=list(S2_BANDS)) != 0)
    if "SCL" in stack.band.values:
        refl = refl.where(~stack.sel(band="SCL").isin(list(SCL_MASKED)))
        refl.attrs["cloud_fraction"] = _scl_cloud(stack.sel(band="SCL"))
    return refl.rio.write_crs(park.crs), list(stack.band.values), True


def _scl_cloud(scl) -> float | None:
    """Share of the pixels with data that SCL flags as cloud, cloud shadow, cirrus or snow."""
    v = np.asarray(scl.values)
    data = (v != 0).sum()
    return float(np.isin(v, (3, 8, 9, 10, 11)).sum() / data) if data else None


def _local_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if root.suffix.upper() == ".SAFE" and root.is_dir():
        return [root]
    if not root.is_dir():
        raise SourceIOError(f"{root}: no such imagery file or folder")
    files = sorted([p for p in root.iterdir() if p.suffix.lower() in (".tif", ".tiff") or p.name.upper().endswith(".SAFE")])
    if not files:
        raise SourceIOError(f"{root}: no GeoTIFF (.tif) files or .SAFE folders in it")
    return files


def open_imagery(source, park, *, period: str | Sequence | None = None, ring_m: float | None = None, resolution: float = 10,
                 max_cloud: float = 30, band_names: Sequence[str] | None = None, chunks: dict | None = None,
                 composite: str | None = None):
    """Reflectance over a park from local files, a .SAFE folder, a STAC URL or a catalogue preset.

    Parameters
    ----------
    source : str or Path
        A GeoTIFF/COG, a folder of them (or of .SAFE folders), an ``http(s)`` STAC API URL, or a preset
        (``earth-search``, ``planetary-computer``, ``cdse``).
    park : parkscan.aoi.Park
        The park; its metric CRS and footprint + ring define the grid.
    period : "YYYY-MM-DD/YYYY-MM-DD", optional
        Keep only images acquired in this period (date from the file name or a date tag). Required for remote sources.
    ring_m : float, optional
        Ring around the footprint (default ``OPTIONS['ring_m']``).
    resolution : float
        Pixel size in metres when a reprojection is needed.
    max_cloud : float
        Scene cloud limit (percent) for remote sources.
    band_names : sequence of str, optional
        Names of the file's bands when the file has no band descriptions, e.g.
        ``("SWIR1", "NIR", "Red", "Green")`` for a Landsat composite (Landsat names are mapped to B11, B08, B04, B03).
    chunks : dict, optional
        Dask chunks (``{"x": 2048, "y": 2048}``) for lazy reading of large files.
    composite : {"median"}, optional
        Reduce the time axis with a NaN-aware median (time length becomes 1).

    Returns
    -------
    xarray.Dataset
        Float32 reflectance variables (``B02`` … ``B12`` as available), dims ``(time, y, x)``; attrs ``source``,
        ``files``, ``dates``, ``cloud_fraction`` (per date, share of the pixels with data that SCL flags as cloud, shadow, cirrus or snow; None without SCL), ``reflectance`` (False for stretched 8-bit).

    Raises
    ------
    SourceIOError
        Missing/unreadable files, no CRS, or no image in the period.
    """
    import pandas as pd
    import xarray as xr

    src = str(source)
    start, end = parse_period(period)
    if src.startswith(("http://", "https://")) or src in PRESETS:
        if start is None:
            raise SourceError("a period YYYY-MM-DD/YYYY-MM-DD is needed to search a remote catalogue")
        from parkscan.sources.remote import load_imagery

        return load_imagery(source, park, start=start.isoformat(), end=end.isoformat(), max_cloud=max_cloud,
                            resolution=resolution)
    files = _local_files(Path(source))
    picked = []
    for f in files:
        tags = {}
        if f.is_file():
            import rasterio

            try:
                with rasterio.open(f) as s:
                    tags = s.tags()
            except rasterio.errors.RasterioIOError as err:
                raise SourceIOError(f"{f}: cannot read the image ({err})") from err
        d = image_date(f, tags)
        if start is not None and (d is None or not (start <= d <= end)):
            continue
        picked.append((d, f))
    if not picked:
        raise SourceIOError(f"{source}: no image acquired in {period} (dates are read from the file names, e.g. S2_L2A_20240615.tif)")
    picked.sort(key=lambda t: (t[0] or date.min, str(t[1])))
    arrays, used, reflectance, clouds = [], [], True, []
    for d, f in picked:
        if f.is_dir():
            da, names, refl_ok = _read_safe(f, park, ring_m=ring_m, resolution=resolution, chunks=chunks)
        else:
            da, names, refl_ok = _read_tif(f, park, ring_m=ring_m, resolution=resolution, band_names=band_names, chunks=chunks)
        reflectance &= refl_ok
        clouds.append(da.attrs.get("cloud_fraction"))
        arrays.append(da.expand_dims(time=[pd.Timestamp(d) if d else pd.NaT]))
        used.append(str(f))
    common = [b for b in arrays[0].band.values if all(b in a.band.values for a in arrays)]
    cube = xr.concat([a.sel(band=common) for a in arrays], dim="time", join="override")
    ds = cube.to_dataset(dim="band")
    ds = ds[[b for b in S2_BANDS if b in ds.data_vars] + [b for b in ds.data_vars if b not in S2_BANDS]]
    if composite == "median":
        ds = ds.median("time", skipna=True).expand_dims(time=[ds.time.values[len(ds.time) // 2]])
    cloud = clouds
    keep = {k: v for k, v in ds.attrs.items() if k in ("CLOUDY_PIXEL_PERCENTAGE", "SPACECRAFT_NAME", "PROCESSING_LEVEL", "SIMULATED")}
    for v in ds.data_vars.values():
        v.attrs = {}
    ds.attrs = keep
    ds.attrs.update({"source": src, "files": used, "dates": [str(d) for d, _ in picked], "cloud_fraction": cloud,
                     "reflectance": bool(reflectance)})
    ds = ds.rio.write_crs(park.crs)
    return ds.astype("float32")
