"""Map layers of the land-cover diagnostic: class maps, change overlay, true colour, all reprojected to WGS-84."""
from __future__ import annotations

import numpy as np

from parkscan.maps.layers import RasterLayer

__all__ = ["to_wgs84_rgba", "class_layer", "change_layer", "truecolour_layers"]


def _hex(c: str) -> tuple[int, int, int]:
    c = c.lstrip("#")
    return tuple(int(c[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def to_wgs84_rgba(rgba: np.ndarray, transform, crs) -> tuple[np.ndarray, tuple[tuple[float, float], tuple[float, float]]]:
    """Reproject an RGBA image (h, w, 4) to north-up WGS-84 (nearest neighbour); returns (image, ((S, W), (N, E)))."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    h, w = rgba.shape[:2]
    left, top = transform.c, transform.f
    right, bottom = left + transform.a * w, top + transform.e * h
    dst_t, dw, dh = calculate_default_transform(crs, "EPSG:4326", w, h, left=left, bottom=bottom, right=right, top=top)
    out = np.zeros((4, dh, dw), np.uint8)
    reproject(np.moveaxis(rgba, -1, 0), out, src_transform=transform, src_crs=crs, dst_transform=dst_t,
              dst_crs="EPSG:4326", resampling=Resampling.nearest, src_nodata=None, dst_nodata=0)
    west, north = dst_t.c, dst_t.f
    east, south = west + dst_t.a * dw, north + dst_t.e * dh
    return np.moveaxis(out, 0, -1), ((south, west), (north, east))


def class_layer(class_map: np.ndarray, transform, crs, period: str, dates, lang: str) -> RasterLayer:
    """The class map of one period as a coloured overlay with a legend."""
    from parkscan.models.landcover.classes import CLASS_COLOURS, CLASS_LABELS, PARK_CLASSES

    lut = np.zeros((256, 4), np.uint8)
    for i, name in enumerate(PARK_CLASSES, start=1):
        lut[i, :3] = _hex(CLASS_COLOURS[name])
        lut[i, 3] = 255
    img, bounds = to_wgs84_rgba(lut[class_map], transform, crs)
    title = {"before": {"en": "Land cover, before", "zh": "土地覆盖（前期）"}, "after": {"en": "Land cover, after", "zh": "土地覆盖（后期）"}}
    return RasterLayer(name=title[period][lang if lang in ("en", "zh") else "en"], image=img, bounds=bounds, opacity=0.7,
                       legend={CLASS_LABELS[n][lang if lang in ("en", "zh") else "en"]: CLASS_COLOURS[n] for n in PARK_CLASSES},
                       time=(dates[0] if dates else None), show=False, group="landcover")


def change_layer(codes: np.ndarray, transform, crs, lang: str) -> RasterLayer:
    """Changed pixels coloured by the class they became."""
    from parkscan.models.landcover.classes import CLASS_COLOURS, CLASS_LABELS, PARK_CLASSES

    to = np.where(codes > 0, codes % 10, 0).astype(np.uint8)
    lut = np.zeros((256, 4), np.uint8)
    for i, name in enumerate(PARK_CLASSES, start=1):
        lut[i, :3] = _hex(CLASS_COLOURS[name])
        lut[i, 3] = 230
    img, bounds = to_wgs84_rgba(lut[to], transform, crs)
    en = lang != "zh"
    return RasterLayer(name="Land-cover change" if en else "土地覆盖变化", image=img, bounds=bounds, opacity=0.85,
                       legend={("→ " if en else "变为") + CLASS_LABELS[n]["en" if en else "zh"]: CLASS_COLOURS[n] for n in PARK_CLASSES},
                       show=True)


def truecolour_layers(data: dict, transform, crs, lang: str) -> list[RasterLayer]:
    """True-colour (B04, B03, B02) before and after with one shared stretch, grouped ``before_after``."""
    rgbs = {}
    for name, ds in data.items():
        if not all(b in ds.data_vars for b in ("B04", "B03", "B02")):
            continue
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                rgbs[name] = np.stack([np.nanmedian(np.asarray(ds[b].values), axis=0) for b in ("B04", "B03", "B02")], -1)
    if not rgbs:
        return []
    allv = np.concatenate([v[np.isfinite(v).all(-1)] for v in rgbs.values()])
    lo, hi = (np.percentile(allv, 2, axis=0), np.percentile(allv, 98, axis=0)) if allv.size else (0.0, 0.3)
    out = []
    for name, rgb in rgbs.items():
        ok = np.isfinite(rgb).all(-1)
        img = np.zeros(rgb.shape[:2] + (4,), np.uint8)
        img[..., :3] = np.clip((np.nan_to_num(rgb) - lo) / np.maximum(hi - lo, 1e-6) * 255, 0, 255).astype(np.uint8)
        img[..., 3] = np.where(ok, 255, 0)
        w, bounds = to_wgs84_rgba(img, transform, crs)
        dates = data[name].attrs.get("dates", [])
        label = {"before": ("True colour, before", "真彩色（前期）"), "after": ("True colour, after", "真彩色（后期）")}[name]
        out.append(RasterLayer(name=(label[1] if lang == "zh" else label[0]) + (f" {dates[0]}" if dates else ""), image=w,
                               bounds=bounds, opacity=1.0, time=dates[0] if dates else None, show=False, group="before_after"))
    return out
