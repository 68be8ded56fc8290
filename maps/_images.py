"""Encode raster overlays as compact data URIs: JPEG for opaque photographs, PNG otherwise."""
from __future__ import annotations

import base64
import io

import numpy as np

__all__ = ["to_data_uri", "web_mercator_rows"]


def web_mercator_rows(img: np.ndarray, south: float, north: float) -> np.ndarray:
    """Resample the rows of a north-up lat/lon image so they are evenly spaced in Web Mercator (nearest row)."""
    h = img.shape[0]
    if h < 2:
        return img

    def merc(lat):
        return np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))

    y_n, y_s = merc(north), merc(south)
    centres_merc = y_n + (np.arange(h) + 0.5) / h * (y_s - y_n)  # output row centres (top → bottom)
    lat = np.degrees(2 * np.arctan(np.exp(centres_merc)) - np.pi / 2)
    src = np.clip(((north - lat) / (north - south) * h).astype(int), 0, h - 1)
    return img[src]


def to_data_uri(img: np.ndarray, *, jpeg_quality: int = 85) -> str:
    """A ``data:`` URI for an RGBA/RGB uint8 image.

    Images with many colours (true-colour imagery) become JPEG when fully opaque, lossy WebP with alpha
    otherwise — about ten times smaller than PNG for photographs; images with few colours (classes, masks,
    colour-mapped indices) stay lossless PNG.
    """
    from PIL import Image

    arr = np.ascontiguousarray(img)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = np.dstack([arr] * 3)
    opaque = arr.shape[2] == 3 or bool(np.all(arr[..., 3] == 255))
    photo = len(np.unique(arr[::4, ::4, :3].reshape(-1, 3), axis=0)) > 256
    buf = io.BytesIO()
    if photo and opaque:
        Image.fromarray(arr[..., :3], "RGB").save(buf, format="JPEG", quality=jpeg_quality, optimize=True)
        mime = "image/jpeg"
    elif photo and _webp():
        # lossy WebP keeps the transparency (no-data edges) that JPEG cannot
        Image.fromarray(arr, "RGBA").save(buf, format="WEBP", quality=jpeg_quality, method=4)
        mime = "image/webp"
    else:
        mode = "RGB" if arr.shape[2] == 3 else "RGBA"
        Image.fromarray(arr, mode).save(buf, format="PNG", optimize=True)
        mime = "image/png"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


def _webp() -> bool:
    from PIL import features

    return bool(features.check("webp"))
