"""Data a user already has: GeoTIFF/COG, Sentinel-2 ``.SAFE`` folders, netCDF (Sentinel-5P L2), FIRMS CSV.

:func:`list_local` walks a file or folder and returns one :class:`LocalItem` per dataset with its
size, SHA-256 (for a SAFE folder: a digest over its files' names and digests), kind, and the
acquisition dates found in its name or metadata, so ``parkscan fetch --source local`` can record
them in the manifest exactly like downloaded items.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from parkscan.aoi.digest import sha256_folder
from parkscan.aoi.errors import SourceIOError

from .http import file_sha256

__all__ = ["LocalItem", "list_local", "is_cog", "KINDS"]

log = logging.getLogger(__name__)

KINDS = {".tif": "geotiff", ".tiff": "geotiff", ".nc": "netcdf", ".nc4": "netcdf", ".h5": "hdf5", ".csv": "csv",
         ".jp2": "jp2", ".zip": "zip"}
_DATE = re.compile(r"(?<!\d)(20\d{2}|19\d{2})-?(\d{2})-?(\d{2})(?:T\d{6})?")


@dataclass(frozen=True)
class LocalItem:
    """One local dataset."""

    path: Path
    """File or ``.SAFE`` folder."""
    kind: str
    """``cog``, ``geotiff``, ``safe``, ``netcdf``, ``csv``, ..."""
    bytes: int
    """Size (sum of files for a folder)."""
    sha256: str
    """SHA-256 of the file, or of ``name\\tsha256`` lines of a folder's files."""
    dates: tuple[str, ...] = ()
    """ISO dates found in the name or metadata."""
    extra: dict = field(default_factory=dict)
    """Kind-specific details (CRS, size, product, time coverage)."""


def is_cog(path: str | Path) -> bool:
    """True when a GeoTIFF is tiled and has overviews (the parts of a COG range reads rely on)."""
    import rasterio

    with rasterio.open(path) as src:
        tiled = src.profile.get("tiled", False) or (src.block_shapes and src.block_shapes[0][0] < src.height
                                                     and src.block_shapes[0][1] < src.width)
        return bool(tiled and src.overviews(1))


def _dates(name: str) -> tuple[str, ...]:
    out = []
    for y, m, d in _DATE.findall(name):
        if 1 <= int(m) <= 12 and 1 <= int(d) <= 31:
            out.append(f"{y}-{m}-{d}")
    return tuple(dict.fromkeys(out))


def _netcdf_extra(path: Path) -> tuple[dict, tuple[str, ...]]:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    except OSError as err:
        raise SourceIOError(f"{path}: not a readable netCDF-4/HDF5 file ({err})") from err
    keep = {k: str(attrs[k]) for k in ("time_coverage_start", "time_coverage_end", "product_name", "title", "platform")
            if k in attrs}
    dates = tuple(v[:10] for k, v in keep.items() if k.startswith("time_coverage"))
    return keep, dates


def _tiff_extra(path: Path) -> dict:
    import rasterio

    try:
        with rasterio.open(path) as src:
            return {"crs": src.crs.to_string() if src.crs else None, "width": src.width, "height": src.height,
                    "count": src.count, "dtype": src.dtypes[0]}
    except rasterio.errors.RasterioIOError as err:
        raise SourceIOError(f"{path}: not a readable GeoTIFF ({err})") from err


def list_local(path: str | Path) -> list[LocalItem]:
    """Datasets in a file or folder (recursively; a ``.SAFE`` folder counts as one).

    Raises
    ------
    SourceIOError
        The path does not exist, or holds no dataset parkscan can use.
    """
    root = Path(path)
    if not root.exists():
        raise SourceIOError(f"{root}: no such file or folder")
    candidates: list[Path] = []
    if root.is_dir() and root.suffix.upper() != ".SAFE":
        safes = sorted(p for p in root.rglob("*.SAFE") if p.is_dir())
        candidates.extend(safes)
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.suffix.lower() in KINDS and not any(s in p.parents for s in safes):
                candidates.append(p)
    else:
        candidates.append(root)
    items = []
    for p in candidates:
        if p.is_dir():
            if not (p / "manifest.safe").exists():
                log.warning("%s has no manifest.safe; recorded anyway", p)
            size, digest = sha256_folder(p)
            items.append(LocalItem(p, "safe", size, digest, _dates(p.name), {"files": sum(1 for q in p.rglob('*') if q.is_file())}))
            continue
        kind = KINDS.get(p.suffix.lower(), "file")
        extra: dict = {}
        dates = _dates(p.name)
        if kind == "geotiff":
            extra = _tiff_extra(p)
            if is_cog(p):
                kind = "cog"
        elif kind == "netcdf":
            extra, more = _netcdf_extra(p)
            dates = tuple(dict.fromkeys(dates + more))
        items.append(LocalItem(p, kind, p.stat().st_size, file_sha256(p), dates, extra))
    if not items:
        raise SourceIOError(f"{root}: no GeoTIFF/COG, .SAFE folder, netCDF or CSV found")
    return items
