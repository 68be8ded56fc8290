"""Land-surface temperature rasters: Landsat Collection-2 Level-2 ST_B10, or any LST GeoTIFF.

* Landsat C2 L2 ``*_ST_B10.TIF``: uint16 digital numbers, ``K = DN × 0.00341802 + 149.0``, 0 = fill.
  A ``*_QA_PIXEL.TIF`` (given, or found next to it) masks fill, dilated cloud, cirrus, cloud and
  cloud shadow (bits 0–4).
* Any other single-band GeoTIFF of LST: Kelvin or degrees Celsius, detected from the values
  (median below 100 → °C) unless ``units=`` says so.

Everything is reprojected (bilinear; QA nearest) onto the park's metric analysis grid.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from parkscan.aoi.errors import SourceIOError

__all__ = ["read_lst", "read_landsat_ndvi", "LANDSAT_ST_SCALE", "LANDSAT_ST_OFFSET", "LANDSAT_SR_SCALE", "LANDSAT_SR_OFFSET", "QA_MASK_BITS", "landsat_date"]

log = logging.getLogger(__name__)

LANDSAT_ST_SCALE = 0.00341802
"""Collection-2 Level-2 surface-temperature scale factor (K per DN)."""
LANDSAT_ST_OFFSET = 149.0
"""Collection-2 Level-2 surface-temperature offset (K)."""
LANDSAT_SR_SCALE = 0.0000275
"""Collection-2 Level-2 surface-reflectance scale factor."""
LANDSAT_SR_OFFSET = -0.2
"""Collection-2 Level-2 surface-reflectance offset."""
QA_MASK_BITS = {0: "fill", 1: "dilated cloud", 2: "cirrus", 3: "cloud", 4: "cloud shadow"}
"""QA_PIXEL bits that mask a pixel."""

_LANDSAT_RE = re.compile(r"L[CTEOM]0\d_L2S[PR]_\d{6}_(\d{8})_\d{8}_\d{2}_T[12R]")


def landsat_date(name: str | Path) -> str | None:
    """Acquisition date (ISO) from a Landsat C2 product name, else None.

    Examples
    --------
    >>> landsat_date("LC08_L2SP_118038_20200806_20200916_02_T1_ST_B10.TIF")
    '2020-08-06'
    """
    m = _LANDSAT_RE.search(Path(str(name)).name)
    if not m:
        return None
    d = m.group(1)
    return f"{d[:4]}-{d[4:6]}-{d[6:]}"


def _find_qa(path: Path) -> Path | None:
    for pat in ("_ST_B10", "_st_b10"):
        if pat in path.name:
            for qa in ("_QA_PIXEL", "_qa_pixel"):
                cand = path.with_name(path.name.replace(pat, qa))
                if cand.exists():
                    return cand
    return None


def _reproject(src_path: Path, grid: Any, *, resampling: str, dtype: str, band: int = 1) -> tuple[np.ndarray, dict[str, Any]]:
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.warp import Resampling, reproject

    try:
        with rasterio.open(src_path) as src:
            if src.crs is None:
                raise SourceIOError(f"{src_path}: the GeoTIFF has no CRS; georeference it (gdal_edit.py -a_srs) and retry")
            data = src.read(band)
            nodata = src.nodata
            info = {"crs": src.crs.to_string(), "dtype": src.dtypes[band - 1], "tags": src.tags(),
                    "scale": src.scales[band - 1], "offset": src.offsets[band - 1], "units": src.units[band - 1] if src.units else None,
                    "res": src.res}
            transform, crs = src.transform, src.crs
    except RasterioIOError as err:
        raise SourceIOError(f"{src_path}: not a readable GeoTIFF ({err})") from err
    if dtype == "float64":
        arr = data.astype("float64")
        if nodata is not None:
            arr[data == nodata] = np.nan
        info["raw"] = arr
    else:
        arr = data
    dst = np.full(grid.shape, np.nan if dtype == "float64" else 0, dtype=dtype)
    reproject(
        source=arr,
        destination=dst,
        src_transform=transform,
        src_crs=crs,
        dst_transform=grid.transform,
        dst_crs=grid.crs.to_wkt(),
        resampling=getattr(Resampling, resampling),
        src_nodata=np.nan if dtype == "float64" else None,
        dst_nodata=np.nan if dtype == "float64" else 0,
    )
    return dst, info


def read_lst(
    path: str | Path,
    grid: Any,
    *,
    qa_pixel: str | Path | None = None,
    units: str = "auto",
    landsat: bool | None = None,
) -> xr.DataArray:
    """Read an LST raster onto a park grid, in Kelvin.

    Parameters
    ----------
    path : str or Path
        Landsat C2 L2 ``*_ST_B10.TIF`` or any single-band LST GeoTIFF.
    grid : GridSpec
        Target grid (``park.grid(res_m, ring_m=...)``).
    qa_pixel : str or Path, optional
        Landsat ``QA_PIXEL`` GeoTIFF; found automatically next to an ``ST_B10`` file.
    units : {"auto", "K", "C"}
        Units of a generic LST GeoTIFF (ignored for Landsat ST_B10, which is scaled DN).
    landsat : bool, optional
        Force (True) or forbid (False) the Landsat DN scaling; default: by file name or integer data.

    Returns
    -------
    xarray.DataArray
        ``lst`` (y, x) in K with NaN where masked or outside the image; coordinates are the grid's
        pixel centres, ``rio`` CRS set; attrs: source, kind (landsat_c2_st | lst_geotiff), date,
        units_in, n_cloud_masked.

    Raises
    ------
    SourceIOError
        Unreadable file, no CRS, or values that are not a temperature in K or °C.

    Examples
    --------
    >>> lst = read_lst("LC08_L2SP_118038_20200806_20200916_02_T1_ST_B10.TIF", park.grid(30))  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        raise SourceIOError(f"{path}: no such LST file")
    arr, info = _reproject(path, grid, resampling="bilinear", dtype="float64")
    raw = info.pop("raw")
    is_landsat = landsat if landsat is not None else ("ST_B10" in path.name.upper() or np.dtype(info["dtype"]).kind in "ui")
    n_cloud = 0
    if is_landsat:
        arr = np.where(arr > 0, arr * LANDSAT_ST_SCALE + LANDSAT_ST_OFFSET, np.nan)
        kind, units_in = "landsat_c2_st", "DN"
        qa_path = Path(qa_pixel) if qa_pixel is not None else _find_qa(path)
        if qa_path is not None:
            qa, _ = _reproject(qa_path, grid, resampling="nearest", dtype="uint16")
            bad = np.zeros(qa.shape, bool)
            for bit in QA_MASK_BITS:
                bad |= (qa >> bit) & 1 == 1
            n_cloud = int((bad & np.isfinite(arr)).sum())
            arr = np.where(bad, np.nan, arr)
    else:
        kind = "lst_geotiff"
        fin = raw[np.isfinite(raw)]
        med = float(np.median(fin)) if fin.size else np.nan
        u = units.upper() if units != "auto" else ("C" if med < 100 else "K")
        if u not in ("K", "C"):
            raise ValueError(f"units must be 'auto', 'K' or 'C', got {units!r}")
        if u == "C":
            arr = arr + 273.15
        units_in = u
    fin = arr[np.isfinite(arr)]
    if fin.size and not (180.0 < float(np.median(fin)) < 380.0):
        raise SourceIOError(
            f"{path}: median {float(np.median(fin)):.1f} K is not a land-surface temperature; "
            "pass units='K' or 'C', or landsat=True/False"
        )
    x, y = grid.coords()
    da = xr.DataArray(arr, dims=("y", "x"), coords={"y": y, "x": x}, name="lst",
                      attrs={"units": "K", "source": str(path), "kind": kind, "units_in": units_in,
                             "date": landsat_date(path) or info["tags"].get("DATE_ACQUIRED") or "",
                             "n_cloud_masked": n_cloud,
                             # the thermal sensor's footprint: Landsat TIRS 100 m (TM 120, ETM+ 60), else the native pixel
                             "footprint_m": (120.0 if path.name[:4].upper() in ("LT04", "LT05") else 60.0 if path.name[:4].upper() == "LE07"
                                             else 100.0) if is_landsat else float(abs(info["res"][0]))})
    import rioxarray  # noqa: F401  (registers the .rio accessor; without this import it exists only by chance)

    da = da.rio.write_crs(grid.crs.to_wkt()).rio.write_transform(grid.transform)
    log.info("%s: LST on %dx%d grid, %d valid pixels", path.name, grid.width, grid.height, int(np.isfinite(arr).sum()))
    return da


def read_landsat_ndvi(st_path: str | Path, grid: Any) -> np.ndarray | None:
    """NDVI on the park grid from the SR bands next to a Landsat C2 L2 ``*_ST_B10.TIF``, or None.

    Landsat 8/9 (``LC08``/``LC09``): red ``SR_B4``, NIR ``SR_B5``; Landsat 4–7: red ``SR_B3``, NIR ``SR_B4``.
    Reflectance = DN × 0.0000275 − 0.2 (DN 0 = fill).

    Examples
    --------
    >>> ndvi = read_landsat_ndvi("LC08_L2SP_118038_20200806_20200916_02_T1_ST_B10.TIF", park.grid(30))  # doctest: +SKIP
    """
    st_path = Path(st_path)
    name = st_path.name
    tag = next((t for t in ("_ST_B10", "_st_b10", "_ST_B6", "_st_b6") if t in name), None)
    if tag is None:
        return None
    red_b, nir_b = ("B4", "B5") if name[:4].upper() in ("LC08", "LC09") else ("B3", "B4")
    bands = []
    for b in (red_b, nir_b):
        cands = [st_path.with_name(name.replace(tag, f"_SR_{b}")), st_path.with_name(name.replace(tag, f"_sr_{b.lower()}"))]
        f = next((c for c in cands if c.exists()), None)
        if f is None:
            return None
        arr, _ = _reproject(f, grid, resampling="bilinear", dtype="float64")
        bands.append(np.where(arr > 0, arr * LANDSAT_SR_SCALE + LANDSAT_SR_OFFSET, np.nan))
    red, nir = bands
    with np.errstate(invalid="ignore", divide="ignore"):
        ndvi = (nir - red) / (nir + red)
    return np.where(np.isfinite(ndvi) & (np.abs(ndvi) <= 1.0), ndvi, np.nan)
