"""Sentinel-5P TROPOMI L2 NO2-like netCDF files with a park plume (real group/variable layout, small swath subset).

Layout follows the real OFFL L2__NO2___ product (PUM for processor 2.x): global attributes; ``PRODUCT`` with
dimensions ``time`` (1), ``scanline``, ``ground_pixel``, ``corner`` (4) and the variables ``latitude``, ``longitude``,
``delta_time`` (ms since the reference day), ``time_utc``, ``qa_value`` (uint8, scale_factor 0.01),
``nitrogendioxide_tropospheric_column`` and its ``_precision`` (mol m-2, _FillValue 9.96921e36);
``PRODUCT/SUPPORT_DATA/GEOLOCATIONS`` with ``latitude_bounds``/``longitude_bounds`` (…, corner) and angles;
``PRODUCT/SUPPORT_DATA/INPUT_DATA`` with ``surface_pressure``, ``eastward_wind``/``northward_wind``;
``METADATA/GRANULE_DESCRIPTION`` and the EOP footprint ``gml:posList``. Only a subset of the swath around the park
is written (a real granule is 450 ground pixels × ~4 000 scanlines).

The column field: background (≈ 7e-5 mol m-2, a regional gradient and smooth variability) plus a park plume —
NOx emission ``E`` (kg/s as NO2) at the park's combustion sources, NO2/NOx = 0.75, a Gaussian column plume
``Ω = f·E/(u √(2π) σy) · exp(−y²/2σy²) · exp(−x/(u τ))`` with σy = √(σ0² + (0.25 x)²), σ0 = 2.5 km, τ = 4 h,
averaged over each pixel's footprint (4×4 sub-samples), plus noise and a few cloudy low-qa pixels.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from parkscan.aoi.atomic import atomic_path

from .plume import wind_vector
from .scene import Scene

__all__ = ["s5p_file_name", "no2_column", "simulate_no2", "NO2_DAYS", "PRODUCTS"]

_FILL = np.float32(9.96921e36)
_M_NO2 = 46.0055e-3
_EPOCH_2010 = datetime(2010, 1, 1, tzinfo=timezone.utc)
_ORBIT_REF = (datetime(2020, 3, 3, 1, 35, 47, tzinfo=timezone.utc), 12367)
_ORBIT_S = 100.7 * 60
NO2_DAYS = tuple(f"2025-06-{d:02d}" for d in (3, 5, 8, 9, 12, 14, 17, 21, 24, 27))
SIGMA0_M, TAU_S, NO2_NOX = 2500.0, 4 * 3600.0, 0.75
#: product → column variable, CF standard name, short name, molar mass (kg/mol), emitted-to-column ratio, lifetime (s)
PRODUCTS = {
    "NO2": ("nitrogendioxide_tropospheric_column", "troposphere_mole_content_of_nitrogen_dioxide", "L2__NO2___",
            _M_NO2, NO2_NOX, TAU_S),
    "SO2": ("sulfurdioxide_total_vertical_column", "atmosphere_mole_content_of_sulfur_dioxide", "L2__SO2___",
            64.066e-3, 1.0, 12 * 3600.0),
}


def s5p_file_name(start: datetime, orbit: int, product: str = "NO2") -> str:
    """ESA file name ``S5P_OFFL_L2__NO2____<start>_<end>_<orbit>_01_020400_<production>.nc``."""
    f = "%Y%m%dT%H%M%S"
    end = start + timedelta(seconds=_ORBIT_S)
    prod = (start + timedelta(days=5)).replace(hour=3, minute=12, second=44)
    return f"S5P_OFFL_L2__{product:_<6}_{start:{f}}_{end:{f}}_{orbit:05d}_01_020400_{prod:{f}}.nc"


def no2_column(x: np.ndarray, y: np.ndarray, sources: list[tuple[float, float, float]], *, from_deg: float,
               speed: float, background: float, gradient: tuple[float, float], x0: float, y0: float,
               product: str = "NO2") -> np.ndarray:
    """Column (mol m-2) at local metric points from sources (x, y, kg/s: NOx as NO2, or SO2 with ``product='SO2'``)."""
    _, _, _, molar, ratio, tau = PRODUCTS[product]
    ue, un = wind_vector(from_deg, 1.0)
    u = max(speed, 1.0)
    col = background + gradient[0] * (x - x0) + gradient[1] * (y - y0)
    for sx, sy, e in sources:
        dx, dy = x - sx, y - sy
        xd = dx * ue + dy * un
        yc = -dx * un + dy * ue
        xp = np.maximum(xd, 0.0)
        sig = np.sqrt(SIGMA0_M**2 + (0.25 * xp) ** 2)
        along = np.where(xd > 0, np.exp(-xp / (u * tau)), np.exp(-0.5 * (xd / SIGMA0_M) ** 2))
        col = col + ratio * (e / molar) / (u * np.sqrt(2 * np.pi) * sig) * np.exp(-0.5 * (yc / sig) ** 2) * along
    return col


def _swath(scene: Scene, rng: np.random.Generator, nscan: int, npix: int):
    """Pixel corners (nscan+1, npix+1) in local metres: along-track 5.5 km, across-track 3.5–6 km, tilted."""
    heading = np.radians(-12.0 + rng.normal(0, 0.5))
    along = np.array([np.sin(heading), np.cos(heading)])
    across = np.array([np.cos(heading), -np.sin(heading)])
    w_across = 3500.0 * rng.uniform(1.0, 1.7)
    i = np.arange(nscan + 1) - nscan / 2 + rng.uniform(-0.5, 0.5)
    j = np.arange(npix + 1) - npix / 2 + rng.uniform(-0.5, 0.5)
    cx = scene.x0 + j[None, :] * w_across * across[0] + i[:, None] * 5500.0 * along[0]
    cy = scene.y0 + j[None, :] * w_across * across[1] + i[:, None] * 5500.0 * along[1]
    return cx, cy


def simulate_no2(out_dir: Path, scene: Scene, sources: list[tuple[float, float, float]], *, n_days: int,
                 noise: float, rng: np.random.Generator, low_qa_fraction: float = 0.08,
                 so2_sources: list[tuple[float, float, float]] | None = None, so2_noise: float = 1.3e-4,
                 so2_rng: np.random.Generator | None = None) -> tuple[list[str], dict, list[str], dict]:
    """Write ``n_days`` S5P NO2 files (and, with ``so2_sources``, SO2 files of the same orbits) under ``out_dir/s5p``.

    Returns the relative NO2 file names, the NO2 truth record, the SO2 file names and the SO2 truth record.
    """
    files, days = [], []
    so2_files, so2_days = [], []
    nscan, npix = 12, 16
    grad = (rng.normal(0, 2e-10), rng.normal(0, 2e-10))  # mol m-2 per metre (≈ ±4e-6 per 20 km)
    for k, day in enumerate(NO2_DAYS[:n_days]):
        from_deg = float((140 + rng.normal(0, 40)) % 360)
        speed = float(np.clip(rng.normal(3.5, 1.2), 1.5, 7.0))
        background = float(7e-5 + rng.normal(0, 8e-6))
        cx, cy = _swath(scene, rng, nscan, npix)
        # 4x4 sub-samples per pixel (bilinear in the corner grid)
        f = (np.arange(4) + 0.5) / 4
        fi, fj = np.meshgrid(f, f, indexing="ij")
        c00, c01, c10, c11 = (cx[:-1, :-1], cx[:-1, 1:], cx[1:, :-1], cx[1:, 1:])
        d00, d01, d10, d11 = (cy[:-1, :-1], cy[:-1, 1:], cy[1:, :-1], cy[1:, 1:])

        def bil(a, b, c, d):
            return (a[..., None, None] * (1 - fi) * (1 - fj) + b[..., None, None] * (1 - fi) * fj
                    + c[..., None, None] * fi * (1 - fj) + d[..., None, None] * fi * fj)

        sx, sy = bil(c00, c01, c10, c11), bil(d00, d01, d10, d11)
        col = no2_column(sx, sy, sources, from_deg=from_deg, speed=speed, background=background, gradient=grad,
                         x0=scene.x0, y0=scene.y0).mean(axis=(-1, -2))
        col = col + 3e-6 * _smooth_noise(rng, col.shape)
        precision = noise * (1.0 + 0.15 * rng.random(col.shape)) + 0.1 * np.abs(col - background)
        qa = np.clip(rng.normal(0.95, 0.04, col.shape), 0.76, 1.0)
        cloudy = rng.random(col.shape) < low_qa_fraction
        qa[cloudy] = rng.uniform(0.3, 0.6, int(cloudy.sum()))
        precision[cloudy] *= 3
        value = col + rng.normal(0, 1, col.shape) * precision
        lon, lat = scene.lonlat((c00 + c01 + c10 + c11) / 4, (d00 + d01 + d10 + d11) / 4)
        lon_b = np.stack([scene.lonlat(a, b)[0] for a, b in ((c00, d00), (c01, d01), (c11, d11), (c10, d10))], -1)
        lat_b = np.stack([scene.lonlat(a, b)[1] for a, b in ((c00, d00), (c01, d01), (c11, d11), (c10, d10))], -1)
        start_ref = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)
        t_over = start_ref + timedelta(hours=5, minutes=int(rng.integers(5, 50)), seconds=int(rng.integers(0, 60)))
        orbit = _ORBIT_REF[1] + int(round((t_over - _ORBIT_REF[0]).total_seconds() / _ORBIT_S))
        gran_start = t_over - timedelta(minutes=48, seconds=int(rng.integers(0, 60)))
        ue, un = wind_vector(from_deg, speed)
        name = s5p_file_name(gran_start, orbit)
        _write(out_dir / "s5p" / name, lon=lon, lat=lat, lon_b=lon_b, lat_b=lat_b, value=value, precision=precision,
               qa=qa, t_over=t_over, ref=start_ref, gran_start=gran_start, orbit=orbit, wind=(ue, un))
        files.append(f"s5p/{name}")
        days.append({"file": name, "date": day, "overpass_utc": t_over.isoformat().replace("+00:00", "Z"),
                     "wind_from_deg": round(from_deg, 1), "wind_speed_ms": round(speed, 2),
                     "background_mol_m2": background, "n_low_qa": int(cloudy.sum())})
        if so2_sources is not None and so2_rng is not None:
            # same orbit, pixels, clouds and wind; SO2 background ≈ 0 with the much larger noise of the SO2 retrieval
            bg2 = float(so2_rng.normal(0, 1.5e-5))
            col2 = no2_column(sx, sy, so2_sources, from_deg=from_deg, speed=speed, background=bg2, gradient=(0.0, 0.0),
                              x0=scene.x0, y0=scene.y0, product="SO2").mean(axis=(-1, -2))
            prec2 = so2_noise * (1.0 + 0.3 * so2_rng.random(col2.shape))
            qa2 = np.clip(so2_rng.normal(0.85, 0.1, col2.shape), 0.51, 1.0)
            qa2[cloudy] = so2_rng.uniform(0.2, 0.5, int(cloudy.sum()))
            prec2[cloudy] *= 2
            val2 = col2 + so2_rng.normal(0, 1, col2.shape) * prec2
            name2 = s5p_file_name(gran_start, orbit, "SO2")
            _write(out_dir / "s5p" / name2, lon=lon, lat=lat, lon_b=lon_b, lat_b=lat_b, value=val2, precision=prec2,
                   qa=qa2, t_over=t_over, ref=start_ref, gran_start=gran_start, orbit=orbit, wind=(ue, un),
                   product="SO2")
            so2_files.append(f"s5p/{name2}")
            so2_days.append({"file": name2, "date": day, "background_mol_m2": bg2})
    truth = {"sources": [{"x": sx_, "y": sy_, "lon": float(scene.lonlat(sx_, sy_)[0]), "lat": float(scene.lonlat(sx_, sy_)[1]),
                          "nox_kg_s": e} for sx_, sy_, e in sources],
             "total_nox_kg_s": float(sum(e for *_, e in sources)), "no2_to_nox": NO2_NOX, "sigma0_m": SIGMA0_M,
             "lifetime_s": TAU_S, "noise_mol_m2": noise, "gradient_mol_m2_per_m": list(grad), "days": days,
             "model": "Gaussian column plume, see parkscan.sources.simulate.s5p"}
    so2_truth = {}
    if so2_sources is not None:
        so2_truth = {"sources": [{"lon": float(scene.lonlat(a, b)[0]), "lat": float(scene.lonlat(a, b)[1]), "so2_kg_s": e}
                                 for a, b, e in so2_sources],
                     "total_so2_kg_s": float(sum(e for *_, e in so2_sources)),
                     "total_so2_kt_per_year": round(float(sum(e for *_, e in so2_sources)) * 31557.6 / 1e3, 3),
                     "lifetime_s": PRODUCTS["SO2"][5], "sigma0_m": SIGMA0_M, "noise_mol_m2": so2_noise,
                     "days": so2_days, "model": "Gaussian column plume, see parkscan.sources.simulate.s5p"}
    return files, truth, so2_files, so2_truth


def _smooth_noise(rng, shape):
    from scipy import ndimage

    z = ndimage.gaussian_filter(rng.standard_normal(shape), 1.5)
    return z / (z.std() + 1e-12)


def _write(path: Path, *, lon, lat, lon_b, lat_b, value, precision, qa, t_over, ref, gran_start, orbit, wind,
           product: str = "NO2"):
    import h5netcdf
    import h5py

    nscan, npix = lon.shape
    iso = "%Y-%m-%dT%H:%M:%SZ"
    gran_end = gran_start + timedelta(seconds=_ORBIT_S)
    with atomic_path(path, suffix=".nc") as tmp:
        with h5netcdf.File(tmp, "w", track_order=True) as f:
            a = f.attrs
            a["Conventions"] = "CF-1.7"
            a["institution"] = "KNMI"
            a["source"] = "Sentinel 5 precursor, TROPOMI, space-borne remote sensing, L2"
            var, std_name, short, *_ = PRODUCTS[product]
            a["summary"] = f"TROPOMI/S5P {product} 1-Orbit L2 Swath 5.5x3.5km"
            a["title"] = f"TROPOMI/S5P {product} 1-Orbit L2 Swath 5.5x3.5km"
            a["comment"] = "SIMULATED by parkscan.sources.simulate: a small swath subset around a simulated park"
            a["id"] = path.stem
            a["time_reference"] = ref.strftime(iso)
            a["time_reference_days_since_1950"] = np.int32((ref - datetime(1950, 1, 1, tzinfo=timezone.utc)).days)
            a["time_reference_seconds_since_1970"] = np.int64(ref.timestamp())
            a["time_coverage_start"] = gran_start.strftime(iso)
            a["time_coverage_end"] = gran_end.strftime(iso)
            a["orbit"] = np.int32(orbit)
            a["processor_version"] = "2.4.0"
            a["product_version"] = "2.4.0"
            a["algorithm_version"] = "2.4.0"
            a["platform"] = "S5P"
            a["sensor"] = "TROPOMI"
            a["spatial_resolution"] = "5.5x3.5km2"
            a["cdm_data_type"] = "Swath"
            a["date_created"] = (gran_start + timedelta(days=5)).strftime(iso)
            a["geospatial_lat_min"] = np.float32(lat_b.min())
            a["geospatial_lat_max"] = np.float32(lat_b.max())
            a["geospatial_lon_min"] = np.float32(lon_b.min())
            a["geospatial_lon_max"] = np.float32(lon_b.max())
            a["license"] = "No conditions apply"
            meta = f.create_group("METADATA")
            gd = meta.create_group("GRANULE_DESCRIPTION")
            gd.attrs["GranuleStart"] = gran_start.strftime(iso)
            gd.attrs["GranuleEnd"] = gran_end.strftime(iso)
            gd.attrs["InstrumentName"] = "TROPOMI"
            gd.attrs["MissionName"] = "Sentinel-5 precursor"
            gd.attrs["MissionShortName"] = "S5P"
            gd.attrs["ProcessLevel"] = "2"
            gd.attrs["ProcessingMode"] = "Offline"
            gd.attrs["ProcessorVersion"] = "2.4.0"
            gd.attrs["ProductShortName"] = short
            ext = (meta.create_group("EOP_METADATA").create_group("om:featureOfInterest").create_group("eop:multiExtentOf")
                   .create_group("gml:surfaceMembers").create_group("gml:exterior"))
            ring = [(lat_b[0, 0, 0], lon_b[0, 0, 0]), (lat_b[0, -1, 1], lon_b[0, -1, 1]), (lat_b[-1, -1, 2], lon_b[-1, -1, 2]),
                    (lat_b[-1, 0, 3], lon_b[-1, 0, 3]), (lat_b[0, 0, 0], lon_b[0, 0, 0])]
            ext.attrs["gml:posList"] = " ".join(f"{la:.5f} {lo:.5f}" for la, lo in ring)
            ext.attrs["objectType"] = "gml:LinearRing"

            p = f.create_group("PRODUCT")
            p.dimensions = {"time": 1, "scanline": nscan, "ground_pixel": npix, "corner": 4}
            for dim, vals in (("scanline", np.arange(nscan)), ("ground_pixel", np.arange(npix)), ("corner", np.arange(4))):
                v = p.create_variable(dim, (dim,), "i4")
                v[:] = vals
                v.attrs["units"] = "1"
            t = p.create_variable("time", ("time",), "i4")
            t[:] = [int((ref - _EPOCH_2010).total_seconds())]
            t.attrs["units"] = "seconds since 2010-01-01 00:00:00"
            t.attrs["standard_name"] = "time"
            t.attrs["axis"] = "T"
            row_ms = int((t_over - ref).total_seconds() * 1000) + (np.arange(nscan) - nscan // 2) * 840
            dt = p.create_variable("delta_time", ("time", "scanline"), "i4")
            dt[:] = row_ms[None, :].astype("i4")
            dt.attrs["long_name"] = "offset from reference start time of measurement"
            dt.attrs["units"] = f"milliseconds since {ref:%Y-%m-%d} 00:00:00"
            tu = p.create_variable("time_utc", ("time", "scanline"), h5py.string_dtype())
            tu[0, :] = np.array([(ref + timedelta(milliseconds=int(ms))).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
                                 for ms in row_ms], dtype=object)
            tu.attrs["long_name"] = "Time of observation as ISO 8601 date-time string"
            for name, arr, units, std in (("latitude", lat, "degrees_north", "latitude"),
                                          ("longitude", lon, "degrees_east", "longitude")):
                v = p.create_variable(name, ("time", "scanline", "ground_pixel"), "f4")
                v[:] = arr[None].astype("f4")
                v.attrs["units"] = units
                v.attrs["standard_name"] = std
                v.attrs["bounds"] = f"/PRODUCT/SUPPORT_DATA/GEOLOCATIONS/{name}_bounds"
            q = p.create_variable("qa_value", ("time", "scanline", "ground_pixel"), "u1", fillvalue=np.uint8(255))
            q[:] = np.clip(np.round(qa * 100), 0, 100).astype("u1")[None]
            q.attrs["units"] = "1"
            q.attrs["scale_factor"] = np.float32(0.01)
            q.attrs["add_offset"] = np.float32(0.0)
            q.attrs["valid_min"] = np.uint8(0)
            q.attrs["valid_max"] = np.uint8(100)
            q.attrs["long_name"] = "data quality value"
            q.attrs["coordinates"] = "longitude latitude"
            for name, arr in ((var, value), (f"{var}_precision", precision)):
                v = p.create_variable(name, ("time", "scanline", "ground_pixel"), "f4", fillvalue=_FILL)
                v[:] = arr[None].astype("f4")
                v.attrs["units"] = "mol m-2"
                v.attrs["coordinates"] = "longitude latitude"
                v.attrs["multiplication_factor_to_convert_to_molecules_percm2"] = np.float32(6.02214e19)
                if not name.endswith("precision"):
                    v.attrs["standard_name"] = std_name
                    v.attrs["ancillary_variables"] = f"{var}_precision"
                else:
                    v.attrs["standard_name"] = f"{std_name} standard_error"
            sd = p.create_group("SUPPORT_DATA")
            geo = sd.create_group("GEOLOCATIONS")
            for name, arr in (("latitude_bounds", lat_b), ("longitude_bounds", lon_b)):
                v = geo.create_variable(name, ("time", "scanline", "ground_pixel", "corner"), "f4")
                v[:] = arr[None].astype("f4")
                v.attrs["units"] = "degrees_north" if name.startswith("lat") else "degrees_east"
            sza = geo.create_variable("solar_zenith_angle", ("time", "scanline", "ground_pixel"), "f4")
            sza[:] = np.full((1, nscan, npix), 15.0, "f4")
            sza.attrs["units"] = "degree"
            inp = sd.create_group("INPUT_DATA")
            for name, val, units in (("surface_pressure", 100800.0, "Pa"), ("eastward_wind", wind[0], "m s-1"),
                                     ("northward_wind", wind[1], "m s-1")):
                v = inp.create_variable(name, ("time", "scanline", "ground_pixel"), "f4")
                v[:] = np.full((1, nscan, npix), val, "f4")
                v.attrs["units"] = units
