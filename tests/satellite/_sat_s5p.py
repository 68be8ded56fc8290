"""Build small S5P L2 files in the real layout (PRODUCT group, SUPPORT_DATA/GEOLOCATIONS bounds, uint8 qa_value).

Used by the tests and by bench/bench_satellite.py. Not a simulator of physics: the caller gives the column field.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import numpy as np

__all__ = ["s5p_name", "write_s5p_l2", "swath", "field_file"]

_FILL = np.float32(9.96921e36)


def s5p_name(product: str, start: datetime, orbit: int) -> str:
    """A file name following the ESA convention."""
    p = f"{product:_<6}"
    end = start + timedelta(minutes=101)
    f = "%Y%m%dT%H%M%S"
    return f"S5P_OFFL_L2__{p}_{start:{f}}_{end:{f}}_{orbit:05d}_01_010302_{(start + timedelta(days=2)):{f}}.nc"


def swath(lon0: float, lat0: float, *, nscan: int = 30, npix: int = 24, dx_km: float = 5.5, dy_km: float = 3.5,
          angle_deg: float = 12.0, offset: tuple[float, float] = (0.0, 0.0)):
    """Corner and centre lon/lat of a small tilted swath centred near (lon0, lat0).

    Returns lon, lat (nscan, npix) and lon_b, lat_b (nscan, npix, 4), corners counter-clockwise.
    """
    kx = 111.32 * np.cos(np.radians(lat0))
    ky = 110.57
    a = np.radians(angle_deg)
    # along-track unit (north-ish), cross-track unit (east-ish)
    ux = np.array([np.cos(a), -np.sin(a)])  # cross-track in (east, north)
    uy = np.array([np.sin(a), np.cos(a)])   # along-track
    i = np.arange(nscan)[:, None] - nscan / 2 + offset[1]
    j = np.arange(npix)[None, :] - npix / 2 + offset[0]

    def pos(ii, jj):
        e = jj * dx_km * ux[0] + ii * dy_km * uy[0]
        n = jj * dx_km * ux[1] + ii * dy_km * uy[1]
        return lon0 + e / kx, lat0 + n / ky

    lon, lat = pos(i, j)
    cs = [(-0.5, -0.5), (-0.5, 0.5), (0.5, 0.5), (0.5, -0.5)]  # (di, dj)
    lb = np.stack([pos(i + di, j + dj)[0] for di, dj in cs], -1)
    ab = np.stack([pos(i + di, j + dj)[1] for di, dj in cs], -1)
    return lon, lat, lb, ab


def write_s5p_l2(path: str | Path, *, product: str = "NO2", start: datetime | None = None, orbit: int = 12367,
                 lon: np.ndarray, lat: np.ndarray, lon_b: np.ndarray, lat_b: np.ndarray,
                 value: np.ndarray, precision: np.ndarray, qa: np.ndarray, with_pixels: bool = True,
                 delta_since_day: bool = False, wind: tuple[float, float] | None = None) -> Path:
    """Write an S5P L2 file with the real group/variable layout (h5netcdf)."""
    import h5netcdf

    start = start or datetime(2020, 3, 3, 4, 50, tzinfo=timezone.utc)
    path = Path(path)
    if path.is_dir():
        path = path / s5p_name(product, start, orbit)
    nscan, npix = lon.shape
    col = {"NO2": "nitrogendioxide_tropospheric_column", "SO2": "sulfurdioxide_total_vertical_column"}[product]
    ref = datetime(start.year, start.month, start.day, tzinfo=timezone.utc)
    with h5netcdf.File(path, "w") as f:
        f.attrs["Conventions"] = "CF-1.7"
        f.attrs["institution"] = "KNMI"
        f.attrs["id"] = path.stem
        f.attrs["title"] = f"TROPOMI/S5P {product} 1-Orbit L2 Swath 7x3.5km"
        f.attrs["time_coverage_start"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")
        f.attrs["time_coverage_end"] = (start + timedelta(minutes=59)).strftime("%Y-%m-%dT%H:%M:%SZ")
        f.attrs["orbit"] = np.int32(orbit)
        f.attrs["processor_version"] = "1.3.2"
        gd = f.create_group("METADATA").create_group("GRANULE_DESCRIPTION")
        gd.attrs["ProductShortName"] = f"L2__{product:_<6}"
        p = f.create_group("PRODUCT")
        p.dimensions = {"time": 1, "scanline": nscan, "ground_pixel": npix, "corner": 4}
        t = p.create_variable("time", ("time",), "i4")
        t[:] = [int((ref - datetime(2010, 1, 1, tzinfo=timezone.utc)).total_seconds())]
        t.attrs["units"] = "seconds since 2010-01-01 00:00:00"
        dt = p.create_variable("delta_time", ("time", "scanline"), "i4")
        dt[:] = (int((start - ref).total_seconds() * 1000) + np.arange(nscan) * 840)[None, :]
        # processor 1.x: "milliseconds since 2020-03-03 00:00:00"; some files: plain "milliseconds"
        dt.attrs["units"] = f"milliseconds since {ref:%Y-%m-%d} 00:00:00" if delta_since_day else "milliseconds"
        for v, arr in (("latitude", lat), ("longitude", lon)):
            x = p.create_variable(v, ("time", "scanline", "ground_pixel"), "f4")
            x[:] = arr[None].astype("f4")
        if with_pixels:
            for v, arr in ((col, value), (f"{col}_precision", precision)):
                x = p.create_variable(v, ("time", "scanline", "ground_pixel"), "f4", fillvalue=_FILL)
                a = np.where(np.isfinite(arr), arr, _FILL).astype("f4")
                x[:] = a[None]
                x.attrs["units"] = "mol m-2"
            q = p.create_variable("qa_value", ("time", "scanline", "ground_pixel"), "u1", fillvalue=np.uint8(255))
            q[:] = np.clip(np.round(qa * 100), 0, 100).astype("u1")[None]
            q.attrs["scale_factor"] = np.float32(0.01)
            q.attrs["add_offset"] = np.float32(0.0)
        sup = p.create_group("SUPPORT_DATA")
        if wind is not None:
            inp = sup.create_group("INPUT_DATA")
            for v, val in (("eastward_wind", wind[0]), ("northward_wind", wind[1])):
                x = inp.create_variable(v, ("time", "scanline", "ground_pixel"), "f4")
                x[:] = np.full((1, nscan, npix), val, "f4")
                x.attrs["units"] = "m s-1"
        geo = sup.create_group("GEOLOCATIONS")
        for v, arr in (("latitude_bounds", lat_b), ("longitude_bounds", lon_b)):
            x = geo.create_variable(v, ("time", "scanline", "ground_pixel", "corner"), "f4")
            x[:] = arr[None].astype("f4")
    return path


def field_file(out_dir: Path, *, product: str = "NO2", day: int = 0, lon0: float, lat0: float,
               field: Callable[[np.ndarray, np.ndarray], np.ndarray], noise: float = 5e-6, rng=None,
               qa_fraction_bad: float = 0.1, wind: tuple[float, float] | None = None, **kw) -> Path:
    """One orbit file whose column is ``field(lon, lat)`` + noise, with some pixels flagged bad."""
    rng = rng or np.random.default_rng(day)
    lon, lat, lb, ab = swath(lon0, lat0, offset=(rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5)), **kw)
    # the pixel sees the area average of the field: average over 5x5 points of the quadrilateral
    acc = np.zeros(lon.shape)
    g = (np.arange(5) + 0.5) / 5
    for a in g:
        for b in g:
            wts = np.array([(1 - a) * (1 - b), (1 - a) * b, a * b, a * (1 - b)])
            acc += field((lb * wts).sum(-1), (ab * wts).sum(-1))
    val = acc / 25 + rng.normal(0, noise, lon.shape)
    prec = np.full(lon.shape, noise)
    qa = np.where(rng.random(lon.shape) < qa_fraction_bad, 0.4, 1.0)
    start = datetime(2020, 3, 1, 5, 0, tzinfo=timezone.utc) + timedelta(days=day)
    return write_s5p_l2(out_dir, product=product, start=start, orbit=12300 + day, lon=lon, lat=lat, lon_b=lb, lat_b=ab,
                        value=val, precision=prec, qa=qa, wind=wind)
