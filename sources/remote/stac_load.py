"""Load cloud-masked pixels over a park window from STAC items (odc-stac windowed COG reads).

Only the park's window (footprint + ring, snapped to the park grid at the chosen resolution) is
read: GDAL fetches just the COG tiles that intersect it, over HTTP ``Range`` requests.

Public API: :func:`load_imagery` (Sentinel-2 L2A reflectance) and :func:`load_thermal`
(Landsat Collection 2 Level-2 surface temperature, ``ST_B10``).
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Iterable, Sequence

import numpy as np
import pystac
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr

from parkscan.aoi.errors import SourceError, SourceIOError
from parkscan.aoi.options import OPTIONS

from .stac import StacCatalog, open_catalog, search_items

__all__ = ["S2_BANDS", "load_imagery", "load_thermal", "load_items", "gdal_http_options", "park_geobox", "cdse_s3_options"]

log = logging.getLogger(__name__)

#: canonical Sentinel-2 band → asset keys used by catalogues (PC/CDSE style, Earth Search style, CDSE resolution-suffixed)
S2_BANDS: dict[str, tuple[str, ...]] = {
    "B02": ("B02", "blue", "B02_10m"),
    "B03": ("B03", "green", "B03_10m"),
    "B04": ("B04", "red", "B04_10m"),
    "B05": ("B05", "rededge1", "B05_20m"),
    "B06": ("B06", "rededge2", "B06_20m"),
    "B07": ("B07", "rededge3", "B07_20m"),
    "B08": ("B08", "nir", "B08_10m"),
    "B8A": ("B8A", "nir08", "B8A_20m"),
    "B11": ("B11", "swir16", "B11_20m"),
    "B12": ("B12", "swir22", "B12_20m"),
}
SCL_KEYS = ("SCL", "scl", "SCL_20m")
#: SCL classes masked: no data, saturated/defective, cloud shadow, cloud medium/high probability, thin cirrus, snow
SCL_MASKED = (0, 1, 3, 8, 9, 10, 11)
LANDSAT_ST_KEYS = ("lwir11", "ST_B10", "st_b10")
LANDSAT_QA_KEYS = ("qa_pixel", "QA_PIXEL")
#: QA_PIXEL bits masked: fill, dilated cloud, cirrus, cloud, cloud shadow
QA_MASK_BITS = (0, 1, 2, 3, 4)


def gdal_http_options() -> dict[str, Any]:
    """GDAL ``/vsicurl`` settings tied to parkscan's HTTP options (timeout, retries, back-off)."""
    return {
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        "GDAL_HTTP_TIMEOUT": str(max(1, int(round(float(OPTIONS["http_timeout"]))))),
        "GDAL_HTTP_CONNECTTIMEOUT": str(max(1, int(round(float(OPTIONS["http_timeout"]))))),
        "GDAL_HTTP_MAX_RETRY": str(int(OPTIONS["http_retries"])),
        "GDAL_HTTP_RETRY_DELAY": str(max(0.01, float(OPTIONS["http_backoff"]))),
        "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
        "GDAL_HTTP_MULTIPLEX": "YES",
        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff,.TIF,.jp2,.nc",
        "VSI_CACHE": "TRUE",
        "CPL_VSIL_CURL_CHUNK_SIZE": "16384",
    }


def cdse_s3_options() -> dict[str, Any]:
    """GDAL options to read CDSE STAC assets (``s3://eodata/...``) with CDSE S3 keys.

    Keys come from ``CDSE_S3_ACCESS_KEY``/``CDSE_S3_SECRET_KEY`` or the netrc machine
    ``eodata.dataspace.copernicus.eu`` (generated in the CDSE dashboard); {} when none are set.
    """
    from .credentials import get_credentials, register_secret

    cred = get_credentials("cdse-s3", required=False)
    if cred is None:
        return {}
    register_secret(cred.username)
    return {"AWS_S3_ENDPOINT": "eodata.dataspace.copernicus.eu", "AWS_ACCESS_KEY_ID": cred.username,
            "AWS_SECRET_ACCESS_KEY": cred.password, "AWS_VIRTUAL_HOSTING": "FALSE", "AWS_HTTPS": "YES"}


def park_geobox(park, resolution: float, ring_m: float | None = None):
    """An odc-geo ``GeoBox`` on the park grid (park CRS, footprint + ring, snapped to ``resolution``)."""
    from odc.geo.geobox import GeoBox

    grid = park.grid(resolution, ring_m=OPTIONS["ring_m"] if ring_m is None else ring_m)
    return GeoBox((grid.height, grid.width), grid.transform, grid.crs.to_wkt())


def _asset_key(item: pystac.Item, candidates: Sequence[str]) -> str | None:
    return next((k for k in candidates if k in item.assets), None)


def _scale_offset(item: pystac.Item, key: str, default: tuple[float, float]) -> tuple[float, float]:
    bands = item.assets[key].extra_fields.get("raster:bands") or []
    if bands and isinstance(bands[0], dict) and ("scale" in bands[0] or "offset" in bands[0]):
        return float(bands[0].get("scale", 1.0)), float(bands[0].get("offset", 0.0))
    return default


def _s2_default_scale(item: pystac.Item) -> tuple[float, float]:
    props = item.properties
    baseline = str(props.get("s2:processing_baseline") or props.get("processing:version") or "")
    try:
        new = float(baseline) >= 4.0
    except ValueError:
        new = item.datetime is not None and item.datetime.date().isoformat() >= "2022-01-25"
    return (1e-4, -0.1) if new else (1e-4, 0.0)


def _solar_day(item: pystac.Item) -> np.datetime64:
    lon = 0.0
    if item.bbox:
        lon = (item.bbox[0] + item.bbox[2]) / 2
    dt = item.datetime.replace(tzinfo=None) + timedelta(hours=lon / 15.0)
    return np.datetime64(dt.date().isoformat(), "D")


def load_items(items: Sequence[pystac.Item], park, *, assets: Sequence[str], resolution: float,
               resampling: dict[str, str] | None = None, patch_url=None, ring_m: float | None = None) -> xr.Dataset:
    """odc-stac load of ``assets`` over the park window, one time step per solar day, raw values."""
    import odc.stac

    opts = gdal_http_options()
    buckets = {str(a.href)[5:].split("/", 1)[0] for it in items for a in it.assets.values() if str(a.href).startswith("s3://")}
    if "eodata" in buckets:
        s3 = cdse_s3_options()
        if not s3:
            raise SourceError("these items' assets are on S3 (s3://eodata/...: CDSE STAC); set CDSE_S3_ACCESS_KEY and "
                              "CDSE_S3_SECRET_KEY (from the CDSE dashboard), or use --catalog earth-search")
        opts.update(s3)
    elif buckets:
        import os

        if not (os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE")):
            raise SourceError(f"these items' assets are in requester-pays S3 bucket(s) {sorted(buckets)} (e.g. Landsat on "
                              "Earth Search): set AWS credentials (you pay the transfer) or use --catalog planetary-computer")
        opts.update({"AWS_REQUEST_PAYER": "requester"})
    odc.stac.configure_rio(**opts)
    gbox = park_geobox(park, resolution, ring_m)
    try:
        ds = odc.stac.load(list(items), bands=list(assets), geobox=gbox, groupby="solar_day",
                           resampling=resampling or {"*": "bilinear"}, patch_url=patch_url, fail_on_error=True)
    except (OSError, RuntimeError) as err:
        raise SourceIOError(f"reading imagery over park {park.id} failed: {type(err).__name__}: {err}"[:400]) from err
    return ds


def _hrefs(items: Sequence[pystac.Item], assets: Sequence[str]) -> list[str]:
    """Asset URLs read (credentials and signatures removed), for manifests."""
    from .credentials import redact_url

    return [redact_url(it.assets[a].href, keep_query=False) for it in items for a in assets if a in it.assets]


def _to_dataset(data: dict[str, xr.DataArray], like: xr.Dataset, park, attrs: dict) -> xr.Dataset:
    out = xr.Dataset(data)
    out = out.drop_vars([c for c in ("spatial_ref",) if c in out.coords])
    out = out.rio.write_crs(park.crs.to_wkt())
    out.attrs.update(attrs)
    return out


def _composite(ds: xr.Dataset, valid: xr.DataArray, composite: str | None) -> xr.Dataset:
    if composite in (None, "none", "all"):
        return ds
    if composite == "least-cloudy":
        frac = valid.mean(("y", "x"))
        best = int(frac.argmax("time"))
        return ds.isel(time=[best])
    if composite == "median":
        t = ds.time.values
        mid = t[len(t) // 2]
        import warnings

        with warnings.catch_warnings():  # pixels masked in every scene stay NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            med = ds.median("time", skipna=True, keep_attrs=True).astype("float32")
        return med.expand_dims(time=[mid])
    raise SourceError(f"unknown composite {composite!r}: use 'median', 'least-cloudy' or 'none'")


def _items_for(source, park, *, collection: str, start, end, max_cloud) -> tuple[list[pystac.Item], StacCatalog | None]:
    if isinstance(source, (list, tuple)) and all(isinstance(i, pystac.Item) for i in source):
        return list(source), None
    if isinstance(source, pystac.ItemCollection):
        return list(source), None
    cat = open_catalog(source)
    items = search_items(cat, park, collection=collection, start=start, end=end, max_cloud=max_cloud)
    return items, cat


def load_imagery(source: "str | StacCatalog | Iterable[pystac.Item]", park, *, start, end, max_cloud: float = 30,
                 resolution: float = 10, composite: str | None = "median", bands: Sequence[str] | None = None,
                 max_scenes: int = 12) -> xr.Dataset:
    """Cloud-masked Sentinel-2 L2A reflectance over a park window, in the park's metric CRS.

    Parameters
    ----------
    source : str, StacCatalog or list of pystac.Item
        Catalogue preset (``earth-search``, ``planetary-computer``, ``cdse``), STAC API URL,
        opened catalogue, or items already found.
    park : parkscan.aoi.Park
        The park; the window is its footprint plus ``OPTIONS['ring_m']``.
    start, end : str or date
        Inclusive dates ``YYYY-MM-DD`` of the period.
    max_cloud : float, default 30
        Scene cloud cover limit (percent, ``eo:cloud_cover``).
    resolution : float, default 10
        Pixel size in metres (20 m bands are resampled bilinearly).
    composite : {"median", "least-cloudy", "none"}, default "median"
        Median of the cloud-masked scenes (one time step), the scene with most clear pixels in
        the window, or every scene (time series).
    bands : sequence of str, optional
        Subset of :data:`S2_BANDS` (default all ten).
    max_scenes : int, default 12
        Read at most this many scenes (the least cloudy ones).

    Returns
    -------
    xarray.Dataset
        One float32 variable per band (``B02`` ... ``B12``), reflectance 0-1 after scale/offset,
        NaN where masked (SCL no data, saturated, cloud shadow, cloud, cirrus, snow); dims
        ``(time, y, x)``; CRS = ``park.crs`` (rioxarray); a ``clear_fraction`` per time step
        before compositing in ``attrs``; ``attrs["items"]`` lists the scene ids.

    Raises
    ------
    SourceError
        No scene matches (message says what to widen).
    """
    bands = list(bands or S2_BANDS)
    unknown = [b for b in bands if b not in S2_BANDS]
    if unknown:
        raise SourceError(f"unknown Sentinel-2 band(s) {unknown}; use {list(S2_BANDS)}")
    items, cat = _items_for(source, park, collection="s2-l2a", start=start, end=end, max_cloud=max_cloud)
    if not items:
        where = cat.preset.name if cat else "the given items"
        raise SourceError(f"no Sentinel-2 L2A scene over park {park.id} from {start} to {end} with <= {max_cloud}% cloud "
                          f"in {where}: widen the dates or raise --max-cloud")
    items = sorted(items, key=lambda it: float(it.properties.get("eo:cloud_cover", 0) or 0))[:max_scenes]
    first = items[0]
    keys = {b: _asset_key(first, S2_BANDS[b]) for b in bands}
    missing = [b for b, k in keys.items() if k is None]
    if missing:
        raise SourceError(f"scene {first.id} has no asset for band(s) {missing} (assets: {sorted(first.assets)[:20]})")
    scl = _asset_key(first, SCL_KEYS)
    assets = list(keys.values()) + ([scl] if scl else [])
    resampling = {"*": "bilinear"}
    if scl:
        resampling[scl] = "nearest"
    ds = load_items(items, park, assets=assets, resolution=resolution, resampling=resampling,
                    patch_url=cat.sign if cat is not None else None)
    # scale/offset per solar day (processing baselines can differ between scenes)
    days = ds.time.values.astype("datetime64[D]")
    by_day = {}
    for it in items:
        by_day.setdefault(_solar_day(it), it)
    out: dict[str, xr.DataArray] = {}
    if scl:
        s = ds[scl]
        valid = ~s.isin(SCL_MASKED)
    else:
        valid = xr.ones_like(ds[assets[0]], dtype=bool)
    for b, k in keys.items():
        raw = ds[k]
        scale = np.array([_scale_offset(by_day.get(d, first), k, _s2_default_scale(by_day.get(d, first)))[0] for d in days], "float32")
        offset = np.array([_scale_offset(by_day.get(d, first), k, _s2_default_scale(by_day.get(d, first)))[1] for d in days], "float32")
        nodata = raw.attrs.get("nodata", 0)
        ok = valid & (raw != (0 if nodata is None else nodata))
        refl = raw.astype("float32") * xr.DataArray(scale, dims="time") + xr.DataArray(offset, dims="time")
        out[b] = refl.where(ok).astype("float32")
        out[b].attrs = {"units": "1", "long_name": f"Sentinel-2 {b} surface reflectance", "asset": k}
    clear = [float(v) for v in valid.mean(("y", "x")).values]
    attrs = {
        "source": cat.preset.name if cat else "items",
        "catalog_url": cat.url if cat else "",
        "collection": first.collection_id or "sentinel-2-l2a",
        "items": [it.id for it in items],
        "hrefs": _hrefs(items, assets),
        "composite": str(composite),
        "clear_fraction": clear,
        "dates": [str(d) for d in days],
        "attribution": f"Contains modified Copernicus Sentinel data {str(days.max())[:4]}",
    }
    res = _to_dataset(out, ds, park, attrs)
    res = _composite(res, valid.assign_coords(time=res.time), composite)
    res = res.rio.write_crs(park.crs.to_wkt())
    res.attrs.update(attrs)
    return res


def load_thermal(source, park, *, start, end, max_cloud: float = 30, resolution: float = 30,
                 composite: str | None = "median", max_scenes: int = 12) -> xr.Dataset:
    """Landsat C2 L2 surface temperature (``ST_B10``, kelvin) over a park, QA_PIXEL-masked.

    Parameters are those of :func:`load_imagery`; returns a Dataset with float32 ``LST`` (K),
    dims ``(time, y, x)``, park CRS.
    """
    items, cat = _items_for(source, park, collection="landsat-c2-l2", start=start, end=end, max_cloud=max_cloud)
    items = [it for it in items if _asset_key(it, LANDSAT_ST_KEYS)]
    if not items:
        raise SourceError(f"no Landsat C2 L2 scene with surface temperature over park {park.id} from {start} to {end} "
                          f"with <= {max_cloud}% cloud: widen the dates or raise --max-cloud")
    items = sorted(items, key=lambda it: float(it.properties.get("eo:cloud_cover", 0) or 0))[:max_scenes]
    first = items[0]
    st, qa = _asset_key(first, LANDSAT_ST_KEYS), _asset_key(first, LANDSAT_QA_KEYS)
    assets = [st] + ([qa] if qa else [])
    ds = load_items(items, park, assets=assets, resolution=resolution, resampling={"*": "nearest"},
                    patch_url=cat.sign if cat is not None else None)
    raw = ds[st]
    valid = raw != 0
    if qa:
        q = ds[qa].astype("uint32")
        bad = sum((1 << b) for b in QA_MASK_BITS)
        valid = valid & ((q & bad) == 0)
    scale, offset = _scale_offset(first, st, (0.00341802, 149.0))
    lst = (raw.astype("float32") * np.float32(scale) + np.float32(offset)).where(valid).astype("float32")
    lst.attrs = {"units": "K", "long_name": "Landsat surface temperature (ST_B10)", "asset": st}
    days = ds.time.values.astype("datetime64[D]")
    attrs = {"source": cat.preset.name if cat else "items", "collection": first.collection_id or "landsat-c2-l2",
             "items": [it.id for it in items], "hrefs": _hrefs(items, assets), "composite": str(composite),
             "dates": [str(d) for d in days],
             "attribution": "Landsat imagery courtesy of the U.S. Geological Survey"}
    res = _to_dataset({"LST": lst}, ds, park, attrs)
    res = _composite(res, valid.assign_coords(time=res.time), composite)
    res = res.rio.write_crs(park.crs.to_wkt())
    res.attrs.update(attrs)
    return res
