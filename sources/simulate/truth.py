"""Writers of the park, enterprise list, true land-cover rasters and truth records of a scenario."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
from rasterio import features
from shapely.geometry import mapping

from parkscan.aoi.atomic import atomic_path, write_bytes, write_text

from .scene import Scene
from .spectra import CLASSES

__all__ = ["write_park", "write_enterprises", "write_landcover", "change_features", "dump_json", "ENTERPRISE_COLUMNS"]

ENTERPRISE_COLUMNS = ["统一社会信用代码", "企业名称", "经度", "纬度", "所属行业"]


def _round(obj: Any) -> Any:
    """Round floats for stable, compact JSON."""
    if isinstance(obj, float):
        return float(f"{obj:.10g}")
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round(v) for v in obj]
    if isinstance(obj, np.generic):
        return _round(obj.item())
    return obj


def dump_json(path: Path, obj: Any) -> None:
    """Write JSON atomically (UTF-8, Chinese kept readable, stable float formatting)."""
    write_text(path, json.dumps(_round(obj), ensure_ascii=False, indent=1) + "\n")


def write_park(path: Path, scene: Scene) -> None:
    """park.geojson: one feature per approved sub-park (role=approved) and the managed boundary (role=managed)."""
    feats = []
    for sub, poly in scene.approved.items():
        props = {"name": scene.name, "role": "approved"}
        if sub != scene.name:
            props["subpark"] = sub
        feats.append({"type": "Feature", "properties": props, "geometry": mapping(scene.geom_wgs84(poly))})
    feats.append({"type": "Feature", "properties": {"name": scene.name, "role": "managed"},
                  "geometry": mapping(scene.geom_wgs84(scene.managed))})
    fc = {"type": "FeatureCollection", "name": scene.name,
          "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "features": feats}
    dump_json(path, fc)


def write_enterprises(path: Path, scene: Scene) -> None:
    """enterprises.csv: UTF-8 with BOM, Chinese headers, WGS-84 coordinates."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(ENTERPRISE_COLUMNS)
    for e in scene.enterprises:
        lon, lat = scene.lonlat(e.x, e.y)
        w.writerow([e.enterprise_id, e.name, f"{float(lon):.6f}", f"{float(lat):.6f}", e.industry])
    write_bytes(path, b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))


def write_landcover(path: Path, scene: Scene, lc: np.ndarray, date: str) -> None:
    """The true land cover (uint8 class codes, 10 m) as a GeoTIFF with the class names in the tags."""
    with atomic_path(path, suffix=".tif") as tmp:
        with rasterio.open(tmp, "w", driver="GTiff", width=lc.shape[1], height=lc.shape[0], count=1, dtype="uint8",
                           crs=scene.crs.to_wkt(), transform=scene.transform, nodata=0, compress="deflate") as dst:
            dst.write(lc, 1)
            dst.descriptions = ("landcover",)
            dst.update_tags(DATE=date, CLASSES=json.dumps(CLASSES, ensure_ascii=False),
                            SIMULATED="parkscan.sources.simulate true land cover")


def change_features(scene: Scene) -> dict:
    """The true changes as a GeoJSON FeatureCollection (WGS-84) with class from/to and areas."""
    approved = scene.approved_union
    feats = []
    for ch in scene.changes:
        m = features.rasterize([(ch.polygon, 1)], out_shape=scene.shape, transform=scene.transform, dtype="uint8") == 1
        changed = m & (scene.lc_before != scene.lc_after)
        inside_a = ch.polygon.intersection(approved).area / ch.polygon.area
        inside_m = ch.polygon.intersection(scene.managed).area / ch.polygon.area
        c = ch.polygon.centroid
        lon, lat = scene.lonlat(c.x, c.y)
        feats.append({"type": "Feature", "geometry": mapping(scene.geom_wgs84(ch.polygon)), "properties": {
            "id": ch.id, "kind": ch.kind, "from": ch.from_class, "to": ch.to_class,
            "area_ha": round(ch.polygon.area / 1e4, 4), "changed_pixels_ha": round(float(changed.sum()) * 0.01, 4),
            "inside_approved": bool(inside_a > 0.5), "inside_managed": bool(inside_m > 0.5),
            "lon": float(lon), "lat": float(lat)}})
    return {"type": "FeatureCollection", "features": feats}


def polygon_feature(scene: Scene, geom: shapely.Geometry, **props) -> dict:
    """A WGS-84 GeoJSON feature of a local geometry."""
    return {"type": "Feature", "geometry": mapping(scene.geom_wgs84(geom)), "properties": props}
