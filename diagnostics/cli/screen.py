"""``parkscan screen``: screen one park with whatever data are given and write OUT/.

:func:`run_screen` is the one path from files to outputs; ``parkscan demo`` calls it on the
files ``parkscan simulate`` writes, so the demo has no private path.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

import click

from .options import DATUMS, basemap_opt, datum_opt, lang_opt

__all__ = ["command", "run_screen", "summary_lines", "parse_range", "parse_lonlat"]

def parse_range(ctx, param, value: str | None) -> str | None:
    """Click callback: ``YYYY-MM-DD/YYYY-MM-DD`` (start <= end), parsed by :func:`parkscan.sources.imagery.parse_period`."""
    if value is None:
        return None
    from parkscan.aoi.errors import ParkscanError
    from parkscan.sources.imagery import parse_period

    try:
        a, b = parse_period(value)
    except ParkscanError as err:
        raise click.BadParameter(f"{err}; give START/END like 2024-04-01/2024-06-30") from err
    return f"{a.isoformat()}/{b.isoformat()}"


def parse_lonlat(ctx, param, value: str | None) -> tuple[float, float] | None:
    """Click callback: ``LON,LAT`` in WGS-84."""
    if value is None:
        return None
    try:
        lon, lat = (float(v) for v in value.split(","))
    except ValueError as err:
        raise click.BadParameter(f"{value!r} is not LON,LAT (e.g. 120.61,31.31)") from err
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise click.BadParameter(f"{value!r}: longitude must be within ±180 and latitude within ±90")
    return lon, lat


def run_screen(
    park_path: str | Path,
    out: str | Path,
    *,
    inputs: Mapping[str, Any] | None = None,
    datum: str = "wgs84",
    lang: str = "en",
    basemap: str = "none",
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
    show_progress: bool = True,
):
    """Read the park, screen it with ``inputs`` and write every output into ``out``.

    Parameters
    ----------
    park_path : path
        Boundary file (GeoJSON, GeoPackage, Shapefile, KML, WKT).
    out : path
        Output folder.
    inputs : mapping, optional
        ``screen()`` inputs (enterprises, mobile, imagery, before, after, no2, so2, thermal,
        fires, wind, reference, mobile_datum).
    datum : str
        Datum of the boundary and of the enterprise list.
    lang, basemap, seed, params
        See :func:`parkscan.diagnostics.screen` and :meth:`Screening.write`.
    show_progress : bool
        A rich progress bar on stderr.

    Returns
    -------
    (Screening, dict)
        The screening and its output paths.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from parkscan.aoi import read_park
    from parkscan.diagnostics.screening import screen

    params = {"datum": datum, **dict(params or {})}
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=console, transient=True, disable=not show_progress) as bar:
        task = bar.add_task("reading the park", total=100)
        park = read_park(park_path, datum=datum)

        def progress(msg: str, frac: float) -> None:
            bar.update(task, description=f"screening · {msg}"[:70], completed=90 * frac)

        scr = screen(park, lang=lang, seed=seed, params=params, progress=progress, **dict(inputs or {}))
        bar.update(task, description="writing report and maps", completed=90)
        paths = scr.write(out, lang=lang, basemap=basemap)
        bar.update(task, completed=100)
    return scr, paths


def summary_lines(scr, paths: Mapping[str, Path]) -> list[str]:
    """What the commands print when done."""
    missing = [n for n, s in scr.status.items() if s == "not_provided"]
    failed = [f"{n} ({scr.coverage[n].get('detail', '')})" for n, s in scr.status.items() if s == "failed"]
    lines = [f"{len(scr.findings)} findings, {len(scr.site_visits)} site visits proposed ({scr.seconds:.1f} s)"]
    if missing:
        lines.append("not assessed (data not provided): " + ", ".join(missing))
    if failed:
        lines.append("failed: " + "; ".join(failed))
    top = scr.site_visits.sort_values("rank").head(5)
    for r in top.itertuples(index=False):
        lines.append(f"  {r.rank}. {_printable(r.name)} [{r.enterprise_id}] score {r.score:.2f} (confidence {r.confidence:.2f}) "
                     f"WGS-84 {r.lon_wgs84:.5f},{r.lat_wgs84:.5f} GCJ-02 {r.lon_gcj02:.5f},{r.lat_gcj02:.5f}")
    lines.append(f"report: {Path(paths['report.html']).resolve()}")
    return lines


def _printable(text: Any, n: int = 40) -> str:
    """A name safe for a terminal: control characters (ANSI escapes, tabs, newlines) replaced."""
    s = "".join(c if c.isprintable() else "?" for c in str(text))
    return s if len(s) <= n else s[: n - 1] + "…"


@click.command("screen")
@click.argument("park", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Output folder (created if missing).")
@click.option("--enterprises", type=click.Path(exists=True, dir_okay=False), help="Enterprise list (CSV UTF-8/GBK, XLSX, GeoJSON).")
@click.option("--mobile", multiple=True, type=click.Path(exists=True, dir_okay=False), help="Mobile-monitoring (走航) file; repeat for several.")
@click.option("--mobile-datum", type=click.Choice(DATUMS), default="wgs84", show_default=True, help="Datum of the mobile files' coordinates.")
@click.option("--imagery", help="Sentinel-2 imagery: a folder, a file, a STAC URL or a preset name.")
@click.option("--before", callback=parse_range, metavar="START/END", help="Date range of the 'before' imagery.")
@click.option("--after", callback=parse_range, metavar="START/END", help="Date range of the 'after' imagery.")
@click.option("--no2", multiple=True, type=click.Path(exists=True, dir_okay=False), help="Sentinel-5P L2 NO2 netCDF; repeat for several.")
@click.option("--so2", multiple=True, type=click.Path(exists=True, dir_okay=False), help="Sentinel-5P L2 SO2 netCDF; repeat for several.")
@click.option("--thermal", type=click.Path(exists=True, dir_okay=False), help="Land-surface-temperature GeoTIFF.")
@click.option("--fires", type=click.Path(exists=True, dir_okay=False), help="NASA FIRMS fire detections (CSV).")
@click.option("--wind-from", type=click.FloatRange(0, 360), help="Wind direction it blows FROM, degrees (with --wind-speed).")
@click.option("--wind-speed", type=click.FloatRange(0, 60), help="Wind speed, m/s (with --wind-from).")
@click.option("--reference", type=click.Path(exists=True, dir_okay=False), help="Power-plant reference list (CSV, e.g. WRI GPPD).")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), help="Ranking weights TOML (default: the built-in weights.toml).")
@click.option("--start", callback=parse_lonlat, metavar="LON,LAT", help="Start of the site-visit route (default: the park entrance).")
@click.option("--landcover-model", type=click.Path(exists=True, dir_okay=False),
              help="Land-cover model from `parkscan landcover train` (default: the index rules).")
@click.option("--landcover-reference", type=click.Path(exists=True, dir_okay=False),
              help="Reference class raster (WorldCover, Dynamic World …) to train a model on the fly over the after period.")
@click.option("--landcover-schema", default="worldcover", show_default=True,
              help="Class schema of --landcover-reference: worldcover, dynamic_world, eolearn, park, simulate.")
@click.option("--farmland", type=click.Path(exists=True, dir_okay=False),
              help="Registered farmland (三调 cropland / 永久基本农田 polygons, or a raster): farmland now built-up or bare "
                   "is reported as farmland_loss.")
@click.option("--farmland-codes", default=None, metavar="N,N",
              help="With a --farmland raster: the values that are farmland (e.g. 40 for WorldCover cropland; default non-zero).")
@click.option("--mmu-ha", type=click.FloatRange(0.01, 100), default=None, help="Land-cover minimum mapping unit in ha (default 0.5).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for anything random.")
@datum_opt
@lang_opt
@basemap_opt
def command(park, out, enterprises, mobile, mobile_datum, imagery, before, after, no2, so2, thermal, fires, wind_from,
            wind_speed, reference, weights, start, landcover_model, landcover_reference, landcover_schema, farmland,
            farmland_codes, mmu_ha, seed, datum, lang, basemap):
    """Screen a park: findings, ranking, site visits, indicators, report and map.

    PARK is a boundary file (GeoJSON, GeoPackage, Shapefile, KML, WKT); a `role` attribute
    (approved | managed) and a `subpark` attribute are honoured. Diagnostics run on the data
    given; those without data are reported as "not assessed", never as "no problem".

    Example: parkscan screen park.geojson --enterprises enterprises.csv --mobile run1.csv --out out/park
    """
    if (wind_from is None) != (wind_speed is None):
        raise click.UsageError("give --wind-from and --wind-speed together")
    if (before or after) and not imagery:
        raise click.UsageError("--before/--after select the dates of --imagery: give --imagery too")
    inputs: dict[str, Any] = {
        "enterprises": enterprises, "mobile": list(mobile) or None, "mobile_datum": mobile_datum, "imagery": imagery,
        "before": before, "after": after, "no2": list(no2) or None, "so2": list(so2) or None, "thermal": thermal,
        "fires": fires, "reference": reference,
        "wind": None if wind_from is None else {"from_deg": float(wind_from), "speed_ms": float(wind_speed)},
    }
    params: dict[str, Any] = {}
    if weights:
        params["weights"] = weights
    if start:
        params["start"] = start
    if (landcover_model or landcover_reference or farmland) and not imagery:
        raise click.UsageError("--landcover-model/--landcover-reference/--farmland apply to --imagery: give --imagery too")
    if landcover_model and landcover_reference:
        raise click.UsageError("give --landcover-model or --landcover-reference, not both")
    if landcover_model:
        params["landcover_model"] = landcover_model
    if landcover_reference:
        params["landcover_reference"] = landcover_reference
        params["landcover_schema"] = landcover_schema
    if farmland:
        params["landcover_farmland"] = farmland
        if farmland_codes:
            try:
                params["landcover_farmland_codes"] = [int(v) for v in farmland_codes.split(",") if v.strip()]
            except ValueError:
                raise click.BadParameter(f"{farmland_codes!r}: give integers separated by commas, e.g. 40",
                                         param_hint="--farmland-codes") from None
    if mmu_ha is not None:
        params["landcover_mmu_ha"] = mmu_ha
    verbosity = (click.get_current_context().find_root().obj or {}).get("verbosity", 0)
    scr, paths = run_screen(park, out, inputs=inputs, datum=datum, lang=lang, basemap=basemap, seed=seed, params=params,
                            show_progress=verbosity >= 0)
    for line in summary_lines(scr, paths):
        click.echo(line)
