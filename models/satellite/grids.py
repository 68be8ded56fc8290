"""Small grid helpers shared by the satellite models: metric park grid → WGS-84 for maps."""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["to_wgs84"]


def to_wgs84(arr: np.ndarray, grid: Any, *, resampling: str = "nearest", max_size: int = 1024) -> tuple[np.ndarray, tuple[tuple[float, float], tuple[float, float]]]:
    """Reproject a (H, W) float array on a metric GridSpec to a north-up WGS-84 array.

    Returns
    -------
    array, bounds
        The reprojected array (NaN outside) and ``((south, west), (north, east))``.

    Examples
    --------
    >>> img, ((s, w), (n, e)) = to_wgs84(ov.mean, ov.grid)  # doctest: +SKIP
    """
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    src = np.asarray(arr, dtype="float64")
    left, bottom, right, top = grid.bounds
    crs = grid.crs.to_wkt()
    transform, width, height = calculate_default_transform(crs, "EPSG:4326", grid.width, grid.height, left, bottom, right, top)
    scale = max(width, height) / max_size
    if scale > 1:
        width, height = int(width / scale), int(height / scale)
        transform, width, height = calculate_default_transform(crs, "EPSG:4326", grid.width, grid.height, left, bottom, right, top,
                                                               dst_width=width, dst_height=height)
    dst = np.full((height, width), np.nan)
    reproject(source=src, destination=dst, src_transform=grid.transform, src_crs=crs, dst_transform=transform,
              dst_crs="EPSG:4326", resampling=getattr(Resampling, resampling), src_nodata=np.nan, dst_nodata=np.nan)
    west, north = transform.c, transform.f
    east, south = west + transform.a * width, north + transform.e * height
    return dst, ((float(south), float(west)), (float(north), float(east)))
