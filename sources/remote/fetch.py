"""``parkscan fetch``: get satellite data over a park from one source, record every item in a manifest.

:func:`fetch` runs one source (``stac``, ``cdse``, ``dhus``, ``firms``, ``local``), writes what it got
into ``OUT`` and ``OUT/fetch_manifest.json``: for every item its URL (credentials stripped), local
path, bytes, SHA-256, dates and id, plus the parameters and software versions. Downloads go
through the on-disk cache (:mod:`.cache`), so a second run over the same request copies from the
cache instead of the network. Partial downloads stay as ``.NAME.part`` files and are resumed by
the next run; an interrupted run never leaves a half file under a final name.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from parkscan.aoi.atomic import atomic_path, write_text
from parkscan.aoi.errors import SourceError

from .cache import RequestCache, request_key
from .credentials import redact_url
from .download import checked_file_name
from .http import DownloadResult, HTTPSession, file_sha256

__all__ = ["FetchItem", "FetchResult", "fetch", "SOURCES", "cached_download"]

log = logging.getLogger(__name__)

SOURCES = ("stac", "cdse", "dhus", "firms", "local")

Progress = Callable[[str, int, "int | None"], None]
"""``progress(description, done, total)``: bytes or items done."""


@dataclass(frozen=True)
class FetchItem:
    """One item recorded in ``fetch_manifest.json``."""

    id: str
    """Scene/product/file id."""
    kind: str
    """``s2-window``, ``lst-window``, ``netcdf``, ``product``, ``band``, ``fires-csv``, ``local:<kind>``."""
    url: str
    """Where it came from, credentials and secret query values removed ('' for local files)."""
    path: str
    """File written (relative to OUT when inside it)."""
    bytes: int
    """Size of the file written."""
    sha256: str
    """SHA-256 of the file written."""
    dates: tuple[str, ...] = ()
    """Acquisition dates (ISO)."""
    extra: dict = field(default_factory=dict)
    """Source-specific details (items used, MD5, cache hit, transferred bytes, ...)."""


@dataclass
class FetchResult:
    """What :func:`fetch` did."""

    out: Path
    manifest: Path
    items: list[FetchItem]
    seconds: float


def _software() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("parkscan", "requests", "pystac-client", "odc-stac", "sentinelsat", "rasterio", "xarray"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    try:
        import rasterio

        out["gdal"] = rasterio.__gdal_version__
    except ImportError:
        pass
    return out


def _rel(path: Path, out: Path) -> str:
    try:
        return path.resolve().relative_to(out.resolve()).as_posix()
    except ValueError:
        return str(path)


def _link_or_copy(src: Path, dest: Path) -> None:
    with atomic_path(dest) as tmp:
        tmp.unlink()
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)


def cached_download(http: HTTPSession, url: str, dest: str | Path, *, md5: str | None = None, sha256: str | None = None,
                    expected_size: int | None = None, headers: dict | None = None, progress=None,
                    downloader: Callable[..., DownloadResult] | None = None) -> tuple[Path, dict]:
    """Download through the cache: reuse a verified cached copy, else download, verify, cache, place at ``dest``.

    Returns ``(dest, info)`` with ``info`` holding ``sha256``, ``md5``, ``bytes``, ``cache_hit`` and
    ``transferred`` (bytes received over the network in this call).
    """
    cache = RequestCache("files")
    key = request_key("GET", url)
    dest = Path(dest)
    hit = cache.get(key)
    if hit is not None:
        m = hit.meta
        ok = (md5 is None or m.get("md5") == md5.lower()) and (sha256 is None or m.get("sha256") == sha256.lower()) \
            and (expected_size is None or m.get("bytes") == expected_size)
        if ok:
            _link_or_copy(hit.path, dest)
            return dest, {"sha256": m.get("sha256"), "md5": m.get("md5"), "bytes": m.get("bytes"), "cache_hit": True,
                          "transferred": 0}
    if downloader is not None:
        res = downloader(dest)
    else:
        res = http.download(url, dest, md5=md5, sha256=sha256, expected_size=expected_size, headers=headers,
                            progress=progress)
    cache.put_file(key, res.path, url=url, md5=res.md5, sha256=res.sha256)
    return res.path, {"sha256": res.sha256, "md5": res.md5, "bytes": res.bytes, "cache_hit": False,
                      "transferred": res.transferred}


def _write_raster(ds, path: Path, variables: Sequence[str]) -> None:
    """A multi-band GeoTIFF (one band per variable, first time step), written atomically."""
    da = ds[list(variables)].isel(time=0).to_array("band").astype("float32")
    da = da.rio.write_nodata(float("nan"))
    with atomic_path(path, suffix=".tif") as tmp:
        da.rio.to_raster(tmp, driver="GTiff", tiled=True, compress="deflate", predictor=3)
        import rasterio

        with rasterio.open(tmp, "r+") as dst:
            for i, v in enumerate(variables, start=1):
                dst.set_band_description(i, v)
            dst.update_tags(ACQUISITION_DATES=",".join(ds.attrs.get("dates", [])), ITEMS=",".join(ds.attrs.get("items", [])),
                            COMPOSITE=str(ds.attrs.get("composite", "")))


def _fetch_stac(park, out: Path, *, catalog: str, collection: str, start, end, max_cloud, bands, resolution,
                composite, progress: Progress | None) -> list[FetchItem]:
    from .stac import open_catalog, product
    from .stac_load import S2_BANDS, load_imagery, load_thermal

    cat = open_catalog(catalog)
    prod = product(collection)
    items: list[FetchItem] = []
    if prod.name == "s2-l2a":
        if progress:
            progress("reading Sentinel-2 window", 0, 1)
        ds = load_imagery(cat, park, start=start, end=end, max_cloud=max_cloud, resolution=resolution or 10,
                          composite=composite, bands=bands)
        variables = list(bands or S2_BANDS)
        steps = [(f"s2_{composite}_{start}_{end}.tif".replace("-", ""), ds)] if composite not in (None, "none", "all") else [
            (f"s2_{str(t)[:10]}.tif".replace("-", ""), ds.isel(time=[i]).assign_attrs(dates=[ds.attrs["dates"][i]]))
            for i, t in enumerate(ds.time.values)]
        for name, sub in steps:
            path = out / name
            _write_raster(sub, path, variables)
            items.append(FetchItem(id=name, kind="s2-window", url=redact_url(cat.url), path=_rel(path, out),
                                   bytes=path.stat().st_size, sha256=file_sha256(path), dates=tuple(sub.attrs["dates"]),
                                   extra={"items": ds.attrs["items"], "hrefs": ds.attrs.get("hrefs", []),
                                          "collection": ds.attrs["collection"],
                                          "resolution_m": resolution or 10, "bands": variables,
                                          "composite": composite, "clear_fraction": ds.attrs.get("clear_fraction"),
                                          "attribution": ds.attrs.get("attribution")}))
    elif prod.name == "landsat-c2-l2":
        if progress:
            progress("reading Landsat ST_B10 window", 0, 1)
        ds = load_thermal(cat, park, start=start, end=end, max_cloud=max_cloud, resolution=resolution or 30,
                          composite=composite)
        name = f"lst_{composite or 'all'}_{start}_{end}.tif".replace("-", "")
        path = out / name
        _write_raster(ds, path, ["LST"])
        items.append(FetchItem(id=name, kind="lst-window", url=redact_url(cat.url), path=_rel(path, out),
                               bytes=path.stat().st_size, sha256=file_sha256(path), dates=tuple(ds.attrs["dates"]),
                               extra={"items": ds.attrs["items"], "hrefs": ds.attrs.get("hrefs", []), "units": "K",
                                      "attribution": ds.attrs["attribution"]}))
    else:  # Sentinel-5P L2 netCDF files: whole files (swaths), downloaded
        from .stac import search_items

        found = search_items(cat, park, collection=prod.name, start=start, end=end, max_cloud=None)
        for n, it in enumerate(found):
            key = next((k for k, a in it.assets.items() if (a.media_type or "").startswith("application/x-netcdf")
                        or a.href.split("?")[0].endswith(".nc")), None)
            if key is None:
                log.warning("item %s has no netCDF asset; skipped", it.id)
                continue
            asset = it.assets[key]
            sha = _multihash_sha256(asset.extra_fields.get("file:checksum"))
            href = cat.sign(asset.href)
            fname = checked_file_name(Path(asset.href.split("?")[0]).name, source=f"stac item {it.id}")
            if progress:
                progress(f"downloading {fname}", n, len(found))
            path, info = cached_download(cat.http, href, out / fname, sha256=sha,
                                         expected_size=asset.extra_fields.get("file:size"),
                                         progress=_bytes_progress(progress, fname))
            items.append(FetchItem(id=it.id, kind="netcdf", url=redact_url(href, keep_query=False), path=_rel(path, out),
                                   bytes=info["bytes"], sha256=info["sha256"],
                                   dates=(it.datetime.date().isoformat(),) if it.datetime else (),
                                   extra={"cache_hit": info["cache_hit"], "transferred": info["transferred"]}))
        if not items:
            raise SourceError(f"no {prod.name} file over park {park.id} from {start} to {end} in {cat.preset.name}")
    return items


def _bytes_progress(progress: Progress | None, name: str):
    """Adapt ``progress(description, done, total)`` to a download's ``(bytes, total)`` callback."""
    if progress is None:
        return None
    return lambda done, total: progress(f"{name} (bytes)", done, total)


def _multihash_sha256(value: str | None) -> str | None:
    """The hex SHA-256 inside a ``file:checksum`` multihash (``1220`` + 64 hex digits), else None."""
    if value and value.startswith("1220") and len(value) == 68:
        return value[4:].lower()
    return None


def _fetch_cdse(park, out: Path, *, collection: str, start, end, max_cloud, bands, resolution, urls: dict,
                progress: Progress | None) -> list[FetchItem]:
    from .cdse import CDSEClient, download_name

    client = CDSEClient(**urls)
    prods = client.search(park, product=collection, start=start, end=end, max_cloud=max_cloud)
    if not prods:
        raise SourceError(f"cdse: no {collection} product over park {park.id} from {start} to {end}"
                          + (f" with <= {max_cloud}% cloud" if max_cloud is not None else "") + ": widen the dates")
    items = []
    for n, p in enumerate(prods):
        if progress:
            progress(f"{p.name}", n, len(prods))
        if bands:
            for r in client.download_bands(p, out, bands=bands, resolution=resolution,
                                           progress=_bytes_progress(progress, p.name)):
                items.append(FetchItem(id=f"{p.id}:{r.path.name}", kind="band", url=r.url, path=_rel(r.path, out),
                                       bytes=r.bytes, sha256=r.sha256, dates=(p.start[:10],),
                                       extra={"product": p.name, "transferred": r.transferred}))
            continue
        name = download_name(p)
        url = f"{client.download_url}/Products({p.id})/$value"
        path, info = cached_download(client.http, url, out / name, md5=p.md5, expected_size=p.size,
                                     downloader=lambda dest, p=p: client.download(
                                         p, dest.parent, progress=_bytes_progress(progress, p.name)))
        items.append(FetchItem(id=p.id, kind="product", url=redact_url(url), path=_rel(path, out), bytes=info["bytes"],
                               sha256=info["sha256"], dates=(p.start[:10],),
                               extra={"name": p.name, "md5": info["md5"], "cache_hit": info["cache_hit"],
                                      "cloud_cover": p.attributes.get("cloudCover")}))
    return items


def _fetch_dhus(park, out: Path, *, hub: str, collection: str, start, end, max_cloud, progress) -> list[FetchItem]:
    from . import dhus

    api = dhus.open_hub(hub)
    platform, ptype = {"s2-l2a": ("Sentinel-2", "S2MSI2A"), "s2-l1c": ("Sentinel-2", "S2MSI1C"),
                       "s1-grd": ("Sentinel-1", "GRD"), "s3": ("Sentinel-3", None)}.get(collection, (collection, None))
    prods = dhus.search(api, park, start=start, end=end, platform=platform, producttype=ptype,
                        max_cloud=max_cloud if platform == "Sentinel-2" else None)
    if not prods:
        raise SourceError(f"dhus: no {collection} product over park {park.id} from {start} to {end}: widen the dates")
    if progress:
        progress(f"downloading {len(prods)} product(s)", 0, len(prods))
    recs = dhus.download(api, list(prods), out)
    return [FetchItem(id=r["id"], kind="product", url=r["url"], path=_rel(Path(r["path"]), out), bytes=r["bytes"],
                      sha256=r["sha256"], dates=(str(r["date"])[:10],) if r["date"] else (),
                      extra={"title": r["title"], "md5": r["md5"]}) for r in recs]


def _fetch_firms(park, out: Path, *, collection: str, start, end, base_url: str | None, local: str | None) -> list[FetchItem]:
    from .firms_api import FIRMS_URL, fetch_fires, read_fires_csv

    path = out / f"fires_{collection}_{start}_{end}.csv".replace("-", "")
    if local:
        df = read_fires_csv(local)
        from parkscan.aoi.atomic import write_bytes

        write_bytes(path, df.to_csv(index=False).encode("utf-8"))
        urls: list[str] = [str(local)]
    else:
        df = fetch_fires(park, start=start, end=end, source=collection, out=path, base_url=base_url or FIRMS_URL)
        urls = df.attrs.get("urls", [])
    dates = tuple(sorted({str(d) for d in df.get("acq_date", [])}))
    return [FetchItem(id=path.name, kind="fires-csv", url=redact_url(urls[0]) if urls else "", path=_rel(path, out),
                      bytes=path.stat().st_size, sha256=file_sha256(path), dates=dates,
                      extra={"rows": int(len(df)), "requests": [redact_url(u) for u in urls], "source": collection})]


def _fetch_local(path: str, out: Path) -> list[FetchItem]:
    from .local import list_local

    return [FetchItem(id=it.path.name, kind=f"local:{it.kind}", url="", path=str(it.path.resolve()), bytes=it.bytes,
                      sha256=it.sha256, dates=it.dates, extra=it.extra) for it in list_local(path)]


_DEFAULT_COLLECTION = {"stac": "s2-l2a", "cdse": "s2-l2a", "dhus": "s2-l2a", "firms": "VIIRS_SNPP_NRT", "local": ""}


def fetch(park, *, source: str, out: str | Path, catalog: str | None = None, collection: str | None = None,
          start: str | None = None, end: str | None = None, max_cloud: float | None = 30, bands: Sequence[str] | None = None,
          resolution: float | None = None, composite: str | None = "median", path: str | None = None,
          urls: dict | None = None, progress: Progress | None = None) -> FetchResult:
    """Fetch data over ``park`` from one source into ``out`` and write ``out/fetch_manifest.json``.

    Parameters
    ----------
    park : Park
        The park.
    source : {"stac", "cdse", "dhus", "firms", "local"}
        Where from.
    out : path
        Output folder.
    catalog : str, optional
        stac: preset or STAC API URL (default ``earth-search``; ``planetary-computer`` for Landsat and
        Sentinel-5P, which Earth Search has only in a requester-pays bucket or not at all); dhus: hub URL (default ``$DHUS_URL``);
        firms: API base URL (default NASA's); cdse: catalogue OData URL.
    collection : str, optional
        Product: ``s2-l2a`` (default), ``landsat-c2-l2``, ``s5p-no2``, ``s5p-so2``; FIRMS source name for firms.
    start, end : str
        Inclusive dates ``YYYY-MM-DD`` (not needed for ``local``).
    max_cloud : float, optional
        Scene cloud cover limit (percent).
    bands : sequence of str, optional
        stac: bands to write; cdse: download only these band files out of each SAFE.
    path : str, optional
        local: the file or folder; firms: a local FIRMS CSV instead of the API.
    urls : dict, optional
        cdse: ``catalogue_url``/``download_url``/``token_url`` overrides.
    progress : callable, optional
        ``progress(description, done, total)``.
    """
    if source not in SOURCES:
        raise SourceError(f"unknown source {source!r}: use one of {', '.join(SOURCES)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    collection = collection or _DEFAULT_COLLECTION[source]
    if source not in ("local",) and not (source == "firms" and path) and (not start or not end):
        raise SourceError(f"--start and --end (YYYY-MM-DD) are needed for --source {source}")
    t0 = time.perf_counter()
    if source == "stac":
        if catalog is None:  # Landsat on Earth Search is requester-pays S3; Planetary Computer serves it over HTTPS
            catalog = "planetary-computer" if collection in ("landsat-c2-l2", "landsat") or collection.startswith("s5p") \
                else "earth-search"
        items = _fetch_stac(park, out, catalog=catalog, collection=collection, start=start, end=end,
                            max_cloud=max_cloud, bands=bands, resolution=resolution, composite=composite, progress=progress)
    elif source == "cdse":
        u = dict(urls or {})
        if catalog:
            u.setdefault("catalogue_url", catalog)
        items = _fetch_cdse(park, out, collection=collection, start=start, end=end, max_cloud=max_cloud, bands=bands,
                            resolution=int(resolution) if resolution else 10, urls=u, progress=progress)
    elif source == "dhus":
        hub = catalog or os.environ.get("DHUS_URL")
        if not hub:
            raise SourceError("--source dhus needs the hub URL: --catalog https://HUB/dhus/ or $DHUS_URL")
        items = _fetch_dhus(park, out, hub=hub, collection=collection, start=start, end=end, max_cloud=max_cloud,
                            progress=progress)
    elif source == "firms":
        items = _fetch_firms(park, out, collection=collection, start=start, end=end, base_url=catalog, local=path)
    else:
        if not path:
            raise SourceError("--source local needs --path FILE_OR_FOLDER")
        items = _fetch_local(path, out)
    seconds = time.perf_counter() - t0
    manifest = {
        "park": {"id": park.id, "name": park.name, "crs": park.crs.to_string()},
        "source": source,
        "parameters": {"catalog": redact_url(catalog) if catalog else None, "collection": collection, "start": start,
                       "end": end, "max_cloud": max_cloud, "bands": list(bands) if bands else None,
                       "resolution": resolution, "composite": composite if source == "stac" else None},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
        "software": _software(),
        "items": [asdict(i) for i in items],
    }
    mpath = out / "fetch_manifest.json"
    write_text(mpath, json.dumps(manifest, indent=1, ensure_ascii=False, default=str))
    return FetchResult(out=out, manifest=mpath, items=items, seconds=seconds)
