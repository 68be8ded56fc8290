"""Sentinel-5P TROPOMI Level-2 (NO2, SO2) netCDF reader.

Reads the real L2 layout (netCDF-4 / HDF5, opened with xarray + h5netcdf):

* the product from the file name (``S5P_OFFL_L2__NO2____20200303T013547_...nc``), else from
  ``METADATA/GRANULE_DESCRIPTION@ProductShortName`` or the global ``id``/``title``;
* ``PRODUCT/<column>``, ``<column>_precision``, ``qa_value``, ``latitude``, ``longitude``,
  ``time`` + ``delta_time``;
* pixel corners from ``PRODUCT/SUPPORT_DATA/GEOLOCATIONS/latitude_bounds`` / ``longitude_bounds``;
* the granule footprint (``gml:posList``) and time coverage from the metadata.

Only pixels over the park and its ring (plus a margin of one pixel) are kept, after the
quality filter recommended by the Product User Manuals (qa_value > 0.75 for NO2, > 0.5 for SO2).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from parkscan.aoi.errors import SourceIOError

__all__ = [
    "PRODUCTS",
    "S5PName",
    "S5PMetadata",
    "parse_s5p_name",
    "read_s5p_metadata",
    "read_s5p",
]

log = logging.getLogger(__name__)

PRODUCTS: dict[str, dict[str, Any]] = {
    "NO2": {
        "column": "nitrogendioxide_tropospheric_column",
        "qa_min": 0.75,
        "molar_mass": 46.0055e-3,
        "label": "tropospheric NO2 column",
    },
    "SO2": {
        "column": "sulfurdioxide_total_vertical_column",
        "qa_min": 0.5,
        "molar_mass": 64.066e-3,
        "label": "total vertical SO2 column",
    },
}
"""Supported products: the PRODUCT column variable, the PUM quality threshold, molar mass (kg/mol)."""

_NAME_RE = re.compile(
    r"^(?P<mission>S5P)_(?P<stream>OFFL|NRTI|RPRO|PAL_)_(?P<level>L2)__(?P<product>[A-Z0-9_]{6})_"
    r"(?P<start>\d{8}T\d{6})_(?P<end>\d{8}T\d{6})_(?P<orbit>\d{5})_(?P<collection>\d{2})_"
    r"(?P<processor>\d{6})_(?P<production>\d{8}T\d{6})"
)


@dataclass(frozen=True)
class S5PName:
    """The fields of an S5P L2 file name."""

    stream: str
    """Processing stream: ``OFFL``, ``NRTI``, ``RPRO`` or ``PAL_``."""
    product: str
    """Short product, e.g. ``NO2`` or ``SO2`` (``L2__NO2___`` → ``NO2``)."""
    start: datetime
    """Sensing start (UTC)."""
    end: datetime
    """Sensing end (UTC)."""
    orbit: int
    """Absolute orbit number."""
    collection: str
    """Collection number, e.g. ``01``."""
    processor: str
    """Processor version, e.g. ``010302``."""
    production: datetime
    """Production time (UTC)."""


def _ts(s: str) -> datetime:
    return datetime.strptime(s, "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)


def parse_s5p_name(name: str | Path) -> S5PName | None:
    """Parse an S5P L2 file name; None when it is not one.

    Examples
    --------
    >>> n = parse_s5p_name("S5P_OFFL_L2__NO2____20200303T013547_20200303T031717_12367_01_010302_20200306T053815.nc")
    >>> n.product, n.orbit, n.start.isoformat()
    ('NO2', 12367, '2020-03-03T01:35:47+00:00')
    """
    m = _NAME_RE.match(Path(str(name)).name)
    if m is None:
        return None
    return S5PName(
        stream=m["stream"],
        product=m["product"].strip("_"),
        start=_ts(m["start"]),
        end=_ts(m["end"]),
        orbit=int(m["orbit"]),
        collection=m["collection"],
        processor=m["processor"],
        production=_ts(m["production"]),
    )


@dataclass(frozen=True)
class S5PMetadata:
    """What the file's metadata say (no pixel data needed)."""

    path: Path
    """The file."""
    product: str
    """``NO2`` or ``SO2`` (or another short product name)."""
    name: S5PName | None
    """Parsed file name, when it follows the convention."""
    time_coverage_start: datetime | None
    """Sensing start from the global attributes."""
    time_coverage_end: datetime | None
    """Sensing end from the global attributes."""
    orbit: int | None
    """Absolute orbit."""
    processor_version: str | None
    """Processor version from the global attributes."""
    footprint: Any = None
    """Granule footprint (shapely Polygon, lon/lat, longitudes unwrapped so it may exceed ±180), or None."""
    attrs: dict[str, Any] = field(default_factory=dict)
    """Global attributes (decoded to str/float)."""

    def covers(self, lon: float, lat: float) -> bool | None:
        """Whether the granule footprint contains the point.

        None when there is no footprint or when it spans more than 300° of longitude (a half-orbit
        over a pole cannot be drawn as a lon/lat polygon; use the pixels instead).
        """
        if self.footprint is None:
            return None
        w, _, e, _ = self.footprint.bounds
        if e - w > 300.0:
            return None
        from shapely.geometry import Point

        return any(self.footprint.covers(Point(lon + k, lat)) for k in (-360.0, 0.0, 360.0))


def _dec(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray):
        if v.size == 1:
            return _dec(v.reshape(-1)[0])
        return [_dec(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        return v.item()
    return v


def _iso(s: Any) -> datetime | None:
    if not s:
        return None
    try:
        t = pd.Timestamp(str(s).rstrip("Z"))
    except ValueError:
        return None
    return t.tz_localize("UTC").to_pydatetime() if t.tzinfo is None else t.to_pydatetime()


def _footprint(pos: str) -> Any:
    from shapely.geometry import Polygon

    vals = np.array(pos.split(), dtype=float)
    if vals.size < 8 or vals.size % 2:
        return None
    lat, lon = vals[0::2], vals[1::2]  # GML EPSG:4326 axis order is lat lon
    lon = np.degrees(np.unwrap(np.radians(lon)))
    poly = Polygon(np.column_stack([lon, lat]))
    if not poly.is_valid:
        import shapely

        poly = shapely.make_valid(poly)
    return poly


def _h5(path: Path):
    import h5py

    try:
        return h5py.File(path, "r")
    except (OSError, ValueError) as err:
        raise SourceIOError(f"{path}: not a readable netCDF-4/HDF5 file ({err}); is the download complete?") from err


def read_s5p_metadata(path: str | Path) -> S5PMetadata:
    """Read the product type, time coverage, orbit and footprint of an S5P L2 file.

    Works on full products and on metadata-only copies.

    Examples
    --------
    >>> meta = read_s5p_metadata("S5P_OFFL_L2__NO2____...nc")  # doctest: +SKIP
    >>> meta.product
    'NO2'
    """
    path = Path(path)
    if not path.exists():
        raise SourceIOError(f"{path}: no such S5P file")
    name = parse_s5p_name(path)
    with _h5(path) as f:
        attrs = {k: _dec(v) for k, v in f.attrs.items()}
        product = name.product if name else None
        gd = f.get("METADATA/GRANULE_DESCRIPTION")
        if product is None and gd is not None and "ProductShortName" in gd.attrs:
            product = str(_dec(gd.attrs["ProductShortName"])).replace("L2__", "").strip("_")
        if product is None:
            text = f"{attrs.get('id', '')} {attrs.get('title', '')}"
            for p in PRODUCTS:
                if p in text or (p == "SO2" and "Sulphur Dioxide" in text):
                    product = p
                    break
        if product is None:
            raise SourceIOError(
                f"{path}: cannot tell the S5P product from the file name or metadata; "
                "rename it to the ESA convention (S5P_OFFL_L2__NO2____...nc)"
            )
        fp = None
        node = f.get("METADATA/EOP_METADATA/om:featureOfInterest/eop:multiExtentOf/gml:surfaceMembers/gml:exterior")
        if node is not None and "gml:posList" in node.attrs:
            fp = _footprint(str(_dec(node.attrs["gml:posList"])))
    orbit = attrs.get("orbit")
    return S5PMetadata(
        path=path,
        product=product,
        name=name,
        time_coverage_start=_iso(attrs.get("time_coverage_start")) or (name.start if name else None),
        time_coverage_end=_iso(attrs.get("time_coverage_end")) or (name.end if name else None),
        orbit=int(orbit) if orbit is not None else (name.orbit if name else None),
        processor_version=str(attrs["processor_version"]) if "processor_version" in attrs else None,
        footprint=fp,
        attrs={k: v for k, v in attrs.items() if isinstance(v, (str, int, float))},
    )


def _open_group(path: Path, group: str) -> xr.Dataset:
    try:
        return xr.open_dataset(path, group=group, engine="h5netcdf", decode_timedelta=False)
    except (OSError, ValueError, KeyError) as err:
        raise SourceIOError(f"{path}: cannot open group {group} ({err})") from err


def _window(lon: np.ndarray, lat: np.ndarray, bbox: tuple[float, float, float, float]) -> tuple[slice, slice] | None:
    w, s, e, n = bbox
    inside = (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
    if not inside.any():
        return None
    rows = np.flatnonzero(inside.any(axis=1))
    cols = np.flatnonzero(inside.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _pixel_times(prod: xr.Dataset, rs: slice, nrow: int, ncol: int, fallback: datetime | None) -> np.ndarray:
    """Per-pixel UTC times (datetime64[ns]) from ``time`` + ``delta_time`` (ms)."""
    base = None
    if "time" in prod.variables:
        t = prod["time"]
        vals = np.asarray(t.values).reshape(-1)
        if vals.size:
            if np.issubdtype(vals.dtype, np.datetime64):
                base = vals[0].astype("datetime64[ns]")
            else:
                units = str(t.attrs.get("units", "seconds since 2010-01-01 00:00:00"))
                ref = pd.Timestamp(units.split("since", 1)[1].strip()[:19]) if "since" in units else pd.Timestamp("2010-01-01")
                base = np.datetime64(ref.to_datetime64() + np.timedelta64(int(round(float(vals[0]))), "s"), "ns")
    if base is None:
        base = np.datetime64(pd.Timestamp(fallback).tz_convert(None) if fallback else "NaT", "ns")
    if "delta_time" in prod.variables:
        d = prod["delta_time"]
        dv = np.asarray(d.isel(time=0).values if "time" in d.dims else d.values)
        if dv.ndim == 1:
            dv = dv[rs]
        else:
            dv = dv[rs, 0]
        if np.issubdtype(dv.dtype, np.datetime64):
            rowt = dv.astype("datetime64[ns]")
        else:
            dv = np.where(np.isfinite(dv.astype(float)), dv.astype(float), 0.0)
            rowt = base + (dv * 1e6).astype("timedelta64[ns]")
        return np.repeat(rowt[:, None], ncol, axis=1)
    return np.full((nrow, ncol), base)


def read_s5p(
    path: str | Path,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    park: Any = None,
    ring_m: float | None = None,
    qa_min: float | None = None,
    product: str | None = None,
) -> xr.Dataset:
    """Read the quality-filtered pixels of one S5P L2 file over an area.

    Parameters
    ----------
    path : str or Path
        An S5P L2 netCDF file (NO2 or SO2).
    bbox : (west, south, east, north), optional
        Area of interest in degrees. Defaults to the park footprint plus its ring.
    park : Park, optional
        The park; its footprint buffered by ``ring_m`` gives the area when ``bbox`` is None.
    ring_m : float, optional
        Ring width in metres (default ``OPTIONS['ring_m']``), plus a one-pixel margin (10 km).
    qa_min : float, optional
        Keep pixels with ``qa_value > qa_min`` (default 0.75 for NO2, 0.5 for SO2, per the PUM).
    product : str, optional
        Force the product (``NO2`` or ``SO2``) instead of detecting it.

    Returns
    -------
    xarray.Dataset
        Dimensions ``pixel`` and ``corner`` (4): ``value`` and ``precision`` (mol m-2), ``qa_value``,
        ``lon``/``lat`` (centres), ``lon_bounds``/``lat_bounds`` (pixel, corner), ``time`` (UTC),
        ``scanline``, ``ground_pixel``, and ``u``/``v`` (m/s) when the file has
        ``SUPPORT_DATA/INPUT_DATA/eastward_wind``/``northward_wind`` (processor 2.x). Attributes: product, file, orbit, date, n_total, n_rejected_qa.
        Zero pixels is a valid answer (orbit misses the park, all flagged).

    Raises
    ------
    SourceIOError
        Unreadable file, unknown product, or a file without the product variables
        (e.g. a metadata-only copy) — the message names the file and the missing variable.

    Examples
    --------
    >>> ds = read_s5p("S5P_OFFL_L2__NO2____...nc", bbox=(120.5, 31.2, 120.8, 31.4))  # doctest: +SKIP
    >>> float(ds.value.mean())  # doctest: +SKIP
    """
    path = Path(path)
    meta = read_s5p_metadata(path)
    prod_name = (product or meta.product).upper()
    if prod_name not in PRODUCTS:
        raise SourceIOError(f"{path}: S5P product {prod_name!r} is not supported (supported: {', '.join(PRODUCTS)})")
    spec = PRODUCTS[prod_name]
    col = spec["column"]
    qa_min = spec["qa_min"] if qa_min is None else float(qa_min)
    if bbox is None:
        if park is None:
            raise ValueError("read_s5p needs bbox= or park=")
        from parkscan.aoi.options import OPTIONS

        margin = (OPTIONS["ring_m"] if ring_m is None else ring_m) + 10_000.0
        area = park.to_wgs84(park.to_local(park.footprint).buffer(margin))
        bbox = area.bounds
    prod = _open_group(path, "PRODUCT")
    try:
        for var in (col, f"{col}_precision", "qa_value", "latitude", "longitude"):
            if var not in prod.variables:
                raise SourceIOError(
                    f"{path.name}: no PRODUCT/{var} — this file has no {prod_name} pixel data "
                    "(a metadata-only or truncated copy?); download the full L2 product"
                )
        lat = np.asarray(prod["latitude"].isel(time=0).values if "time" in prod["latitude"].dims else prod["latitude"].values, float)
        lon = np.asarray(prod["longitude"].isel(time=0).values if "time" in prod["longitude"].dims else prod["longitude"].values, float)
        win = _window(lon, lat, bbox)
        nrow_all = lat.size
        if win is None:
            return _empty(prod_name, path, meta, nrow_all)
        rs, cs = win

        def take(da: xr.DataArray) -> np.ndarray:
            if "time" in da.dims:
                da = da.isel(time=0)
            return np.asarray(da.isel({da.dims[0]: rs, da.dims[1]: cs}).values)

        val = take(prod[col]).astype(float)
        prec = take(prod[f"{col}_precision"]).astype(float)
        qa = take(prod["qa_value"]).astype(float)
        if qa.size and np.nanmax(qa) > 1.5:  # undecoded uint8 (scale_factor 0.01 missing)
            qa = qa * 0.01
        la, lo = lat[rs, cs], lon[rs, cs]
        geo_path = "PRODUCT/SUPPORT_DATA/GEOLOCATIONS"
        try:
            geo = _open_group(path, geo_path)
        except SourceIOError as err:
            raise SourceIOError(f"{path.name}: no {geo_path} group — pixel corners are needed; download the full L2 product") from err
        with geo:
            for var in ("latitude_bounds", "longitude_bounds"):
                if var not in geo.variables:
                    raise SourceIOError(f"{path.name}: no {geo_path}/{var} — pixel corners are needed; download the full L2 product")
            lab = take(geo["latitude_bounds"]).astype(float)
            lob = take(geo["longitude_bounds"]).astype(float)
        wind_uv = None
        try:
            inp = _open_group(path, "PRODUCT/SUPPORT_DATA/INPUT_DATA")
        except SourceIOError:
            inp = None
        if inp is not None:
            with inp:
                if ("eastward_wind" in inp.variables and "northward_wind" in inp.variables
                        and len([d for d in inp["eastward_wind"].dims if d != "time"]) == 2):
                    wind_uv = (take(inp["eastward_wind"]).astype(float), take(inp["northward_wind"]).astype(float))
        times = _pixel_times(prod, rs, la.shape[0], la.shape[1], meta.time_coverage_start)
        scan = np.repeat(np.arange(rs.start, rs.stop)[:, None], la.shape[1], axis=1)
        gp = np.repeat(np.arange(cs.start, cs.stop)[None, :], la.shape[0], axis=0)
    finally:
        prod.close()
    w, s, e, n = bbox
    in_box = (lo >= w) & (lo <= e) & (la >= s) & (la <= n)
    finite = np.isfinite(val) & np.isfinite(prec) & (prec > 0) & np.isfinite(lab).all(-1) & np.isfinite(lob).all(-1)
    good_qa = np.isfinite(qa) & (qa > qa_min)
    keep = in_box & finite & good_qa
    n_box = int(in_box.sum())
    ds = xr.Dataset(
        {
            "value": ("pixel", val[keep], {"units": "mol m-2", "long_name": spec["label"]}),
            "precision": ("pixel", prec[keep], {"units": "mol m-2"}),
            "qa_value": ("pixel", qa[keep]),
            "lon": ("pixel", lo[keep]),
            "lat": ("pixel", la[keep]),
            "lon_bounds": (("pixel", "corner"), lob[keep]),
            "lat_bounds": (("pixel", "corner"), lab[keep]),
            "time": ("pixel", times[keep].astype("datetime64[ns]")),
            "scanline": ("pixel", scan[keep]),
            "ground_pixel": ("pixel", gp[keep]),
        }
    )
    if wind_uv is not None:
        ds["u"] = ("pixel", wind_uv[0][keep], {"units": "m s-1", "long_name": "eastward wind (INPUT_DATA)"})
        ds["v"] = ("pixel", wind_uv[1][keep], {"units": "m s-1", "long_name": "northward wind (INPUT_DATA)"})
    ds.attrs.update(_attrs(prod_name, path, meta, nrow_all))
    ds.attrs.update(n_in_area=n_box, n_rejected_qa=int((in_box & finite & ~good_qa).sum()), n_kept=int(keep.sum()), qa_min=qa_min)
    log.info("%s: %d pixels over the area, %d kept (qa > %.2f)", path.name, n_box, int(keep.sum()), qa_min)
    return ds


def _attrs(prod_name: str, path: Path, meta: S5PMetadata, n: int) -> dict[str, Any]:
    t = meta.time_coverage_start
    return {
        "product": prod_name,
        "file": str(path),
        "orbit": meta.orbit if meta.orbit is not None else -1,
        "date": t.date().isoformat() if t else "",
        "year": t.year if t else -1,
        "n_total": n,
    }


def _empty(prod_name: str, path: Path, meta: S5PMetadata, n: int) -> xr.Dataset:
    e = np.zeros(0)
    ds = xr.Dataset(
        {
            "value": ("pixel", e), "precision": ("pixel", e), "qa_value": ("pixel", e),
            "lon": ("pixel", e), "lat": ("pixel", e),
            "lon_bounds": (("pixel", "corner"), np.zeros((0, 4))), "lat_bounds": (("pixel", "corner"), np.zeros((0, 4))),
            "time": ("pixel", np.zeros(0, "datetime64[ns]")),
            "scanline": ("pixel", np.zeros(0, int)), "ground_pixel": ("pixel", np.zeros(0, int)),
        }
    )
    ds.attrs.update(_attrs(prod_name, path, meta, n))
    ds.attrs.update(n_in_area=0, n_rejected_qa=0, n_kept=0)
    return ds
