"""Builders for the STAC tests: small Sentinel-2 / Landsat-like COG scenes and a STAC API stand-in."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS

from remote_loopback import LoopbackServer, Reply

S2_ASSETS = {"B02": "blue", "B03": "green", "B04": "red", "B05": "rededge1", "B06": "rededge2", "B07": "rededge3",
             "B08": "nir", "B8A": "nir08", "B11": "swir16", "B12": "swir22"}
TWENTY_M = {"B05", "B06", "B07", "B8A", "B11", "B12"}


def write_cog(path, data: np.ndarray, transform: Affine, epsg: int, *, nodata=0, block=256) -> None:
    """A tiled GeoTIFF with overviews laid out as a COG (GDAL's COG driver)."""
    h, w = data.shape
    with rasterio.open(path, "w", driver="COG", width=w, height=h, count=1, dtype=data.dtype, crs=CRS.from_epsg(epsg),
                       transform=transform, nodata=nodata, blocksize=block, compress="deflate", overview_resampling="nearest") as dst:
        dst.write(data, 1)


def band_value(band: str, day: int) -> int:
    """Known DN per band and scene (reflectance = DN * 1e-4 - 0.1)."""
    return 2000 + 100 * list(S2_ASSETS).index(band) + 10 * day


def make_s2_scene(folder, server: LoopbackServer, park, *, day: int, cloud_rows: slice | None = None,
                  cloud_cover: float = 10.0, size_m: float = 5120.0, collection="sentinel-2-l2a") -> dict:
    """One S2-like scene around the park: COG per band (10 m / 20 m) + SCL, and its STAC item dict."""
    epsg = park.crs.to_epsg()
    cx, cy = park.lonlat_to_xy(park.footprint.centroid.x, park.footprint.centroid.y)
    left, top = float(np.floor((cx - size_m / 2) / 20) * 20), float(np.ceil((cy + size_m / 2) / 20) * 20)
    assets = {}
    sid = f"S2X_TEST_2024050{day}_L2A"
    for band, key in S2_ASSETS.items():
        res = 20 if band in TWENTY_M else 10
        n = int(size_m / res)
        data = np.full((n, n), band_value(band, day), "uint16")
        tr = Affine(res, 0, left, 0, -res, top)
        p = folder / f"{sid}_{band}.tif"
        write_cog(p, data, tr, epsg)
        url = server.add_file(f"/data/{p.name}", p)
        assets[key] = {"href": url, "type": "image/tiff; application=geotiff; profile=cloud-optimized", "roles": ["data"],
                       "proj:shape": [n, n], "proj:transform": list(tr)[:6], "proj:epsg": epsg,
                       "raster:bands": [{"nodata": 0, "data_type": "uint16", "scale": 0.0001, "offset": -0.1}]}
    n = int(size_m / 20)
    scl = np.full((n, n), 4, "uint8")
    if cloud_rows is not None:
        scl[cloud_rows, :] = 9
    tr = Affine(20, 0, left, 0, -20, top)
    p = folder / f"{sid}_SCL.tif"
    write_cog(p, scl, tr, epsg)
    assets["scl"] = {"href": server.add_file(f"/data/{p.name}", p), "type": "image/tiff", "roles": ["data"],
                     "proj:shape": [n, n], "proj:transform": list(tr)[:6], "proj:epsg": epsg}
    x0, y0, x1, y1 = left, top - size_m, left + size_m, top
    lons, lats = park.xy_to_lonlat(np.array([x0, x1, x1, x0, x0]), np.array([y0, y0, y1, y1, y0]))
    geom = {"type": "Polygon", "coordinates": [[[float(a), float(b)] for a, b in zip(lons, lats)]]}
    dt = datetime(2024, 5, day, 2, 30, tzinfo=timezone.utc)
    return {
        "type": "Feature", "stac_version": "1.0.0", "id": sid, "collection": collection,
        "stac_extensions": ["https://stac-extensions.github.io/projection/v1.1.0/schema.json",
                            "https://stac-extensions.github.io/raster/v1.1.0/schema.json"],
        "geometry": geom, "bbox": [float(min(lons)), float(min(lats)), float(max(lons)), float(max(lats))],
        "properties": {"datetime": dt.isoformat().replace("+00:00", "Z"), "eo:cloud_cover": cloud_cover,
                       "s2:processing_baseline": "05.10", "proj:epsg": epsg},
        "links": [], "assets": assets,
    }


def add_stac_api(server: LoopbackServer, items: list[dict], *, root="/stac", page_size=1) -> str:
    """A minimal STAC API (landing page, conformance, POST/GET /search with ``next`` paging)."""
    base = server.url + root
    landing = {
        "type": "Catalog", "id": "loopback", "description": "stand-in", "stac_version": "1.0.0",
        "conformsTo": ["https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/item-search",
                       "https://api.stacspec.org/v1.0.0/item-search#query"],
        "links": [{"rel": "self", "href": base}, {"rel": "root", "href": base},
                  {"rel": "search", "href": base + "/search", "type": "application/geo+json", "method": "POST"},
                  {"rel": "search", "href": base + "/search", "type": "application/geo+json", "method": "GET"}],
    }
    server.route("GET", root + "/?", lambda r: Reply(200, json.dumps(landing).encode(), {"Content-Type": "application/json"}))
    server.search_bodies = []

    def search(req):
        body = json.loads(req.body or b"{}") if req.method == "POST" else {k: v[0] for k, v in req.query.items()}
        server.search_bodies.append(body)
        sel = [it for it in items if not body.get("collections") or it["collection"] in body["collections"]]
        q = body.get("query") or {}
        if "eo:cloud_cover" in q:
            lim = q["eo:cloud_cover"].get("lte", q["eo:cloud_cover"].get("lt", 101))
            sel = [it for it in sel if it["properties"]["eo:cloud_cover"] <= lim]
        dt = body.get("datetime")
        if dt:
            a, b = dt.split("/")
            sel = [it for it in sel if a <= it["properties"]["datetime"] <= b]
        page = int(body.get("token", 0) or 0)
        chunk = sel[page * page_size:(page + 1) * page_size]
        links = []
        if (page + 1) * page_size < len(sel):
            nb = {**body, "token": page + 1}
            links.append({"rel": "next", "href": base + "/search", "method": "POST", "body": nb})
        fc = {"type": "FeatureCollection", "features": chunk, "links": links,
              "numberMatched": len(sel), "numberReturned": len(chunk)}
        return Reply(200, json.dumps(fc).encode(), {"Content-Type": "application/geo+json"})

    server.route("POST", root + "/search", search)
    server.route("GET", root + "/search", search)
    return base


def make_landsat_scene(folder, server: LoopbackServer, park, *, day: int, st_dn: int, cloud_rows: slice | None = None,
                       cloud_cover: float = 10.0, size_m: float = 7680.0) -> dict:
    """One Landsat C2 L2-like scene: ST_B10 (lwir11) and QA_PIXEL COGs at 30 m."""
    epsg = park.crs.to_epsg()
    cx, cy = park.lonlat_to_xy(park.footprint.centroid.x, park.footprint.centroid.y)
    left, top = float(np.floor((cx - size_m / 2) / 30) * 30), float(np.ceil((cy + size_m / 2) / 30) * 30)
    n = int(size_m / 30)
    tr = Affine(30, 0, left, 0, -30, top)
    sid = f"LC09_L2SP_119038_202407{day:02d}_02_T1"
    st = np.full((n, n), st_dn, "uint16")
    qa = np.full((n, n), 1 << 6, "uint16")  # bit 6: clear
    if cloud_rows is not None:
        qa[cloud_rows, :] = (1 << 3) | (1 << 1)
    assets = {}
    for key, data in (("lwir11", st), ("qa_pixel", qa)):
        p = folder / f"{sid}_{key}.tif"
        write_cog(p, data, tr, epsg, block=128)
        a = {"href": server.add_file(f"/data/{p.name}", p), "type": "image/tiff", "roles": ["data"],
             "proj:shape": [n, n], "proj:transform": list(tr)[:6], "proj:epsg": epsg}
        if key == "lwir11":
            a["raster:bands"] = [{"nodata": 0, "data_type": "uint16", "scale": 0.00341802, "offset": 149.0, "unit": "kelvin"}]
        assets[key] = a
    x0, y0, x1, y1 = left, top - size_m, left + size_m, top
    lons, lats = park.xy_to_lonlat(np.array([x0, x1, x1, x0, x0]), np.array([y0, y0, y1, y1, y0]))
    dt = datetime(2024, 7, day, 2, 40, tzinfo=timezone.utc)
    return {"type": "Feature", "stac_version": "1.0.0", "id": sid, "collection": "landsat-c2-l2",
            "geometry": {"type": "Polygon", "coordinates": [[[float(a), float(b)] for a, b in zip(lons, lats)]]},
            "bbox": [float(min(lons)), float(min(lats)), float(max(lons)), float(max(lats))],
            "properties": {"datetime": dt.isoformat().replace("+00:00", "Z"), "eo:cloud_cover": cloud_cover,
                           "proj:epsg": epsg}, "links": [], "assets": assets}
