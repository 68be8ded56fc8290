"""``parkscan fetch PARK --source stac|cdse|dhus|firms|local --out DIR``: satellite data over a park.

Writes the data into ``OUT`` and ``OUT/fetch_manifest.json`` (every item: URL without credentials,
bytes, sha256, dates). Credentials come from environment variables or ``~/.netrc`` only.
"""
from __future__ import annotations

import click

from .options import out_opt

__all__ = ["command"]


def _date(ctx, param, value):
    if value is None:
        return None
    from datetime import date

    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as err:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from err


def _bands(ctx, param, value):
    if not value:
        return None
    out = []
    for v in value:
        out.extend(b.strip().upper() for b in v.split(",") if b.strip())
    return out


@click.command("fetch", short_help="Fetch satellite data over a park (STAC, CDSE, DHuS, FIRMS, local).")
@click.argument("park", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", type=click.Choice(["stac", "cdse", "dhus", "firms", "local"]), required=True,
              help="stac: windowed COG reads from a STAC API; cdse: Copernicus Data Space OData; dhus: a DHuS hub "
                   "(sentinelsat); firms: NASA FIRMS fires; local: files you already have.")
@out_opt
@click.option("--catalog", default=None, help="stac: earth-search (default), planetary-computer, cdse or a STAC API URL; "
                                              "dhus: hub URL (or $DHUS_URL); firms/cdse: API base URL.")
@click.option("--collection", default=None, help="s2-l2a (default), landsat-c2-l2, s5p-no2, s5p-so2; firms: VIIRS_SNPP_NRT, "
                                                 "VIIRS_NOAA20_NRT, MODIS_NRT, ...")
@click.option("--start", callback=_date, default=None, help="First date, YYYY-MM-DD.")
@click.option("--end", callback=_date, default=None, help="Last date (inclusive), YYYY-MM-DD.")
@click.option("--max-cloud", type=click.FloatRange(0, 100), default=30, show_default=True, help="Scene cloud cover limit, %.")
@click.option("--bands", multiple=True, callback=_bands, help="Bands, e.g. B04,B08 (stac: bands written; cdse: band files "
                                                              "taken out of each SAFE instead of whole products).")
@click.option("--resolution", type=click.FloatRange(1, 1000), default=None, help="Pixel size in metres (stac: 10 for S2, 30 for Landsat).")
@click.option("--composite", type=click.Choice(["median", "least-cloudy", "none"]), default="median", show_default=True,
              help="stac: median of cloud-masked scenes, the clearest scene, or all scenes (first one written).")
@click.option("--path", "path", type=click.Path(exists=True), default=None, help="local: file or folder; firms: a FIRMS CSV you have.")
@click.option("--datum", type=click.Choice(["wgs84", "cgcs2000", "gcj02", "bd09"]), default="wgs84", show_default=True,
              help="Datum of the PARK coordinates.")
@click.pass_context
def command(ctx, park, source, out, catalog, collection, start, end, max_cloud, bands, resolution, composite, path, datum):
    """Fetch satellite data over PARK (a boundary file) into --out, with fetch_manifest.json.

    \b
    Examples:
      parkscan fetch park.geojson --source stac --start 2024-05-01 --end 2024-06-30 --out data/
      parkscan fetch park.geojson --source stac --catalog planetary-computer --collection landsat-c2-l2 \\
          --start 2024-07-01 --end 2024-08-31 --out data/
      parkscan fetch park.geojson --source cdse --collection s2-l2a --bands B04,B08 --start 2024-05-01 --end 2024-05-10 --out data/
      parkscan fetch park.geojson --source firms --start 2024-05-01 --end 2024-05-10 --out data/
    """
    import logging

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from parkscan.aoi import read_park
    from parkscan.sources.remote.fetch import fetch

    log = logging.getLogger("parkscan.fetch")
    p = read_park(park, datum=datum)
    quiet = (ctx.obj or {}).get("verbosity", 0) < 0
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), transient=True, disable=quiet) as bar:
        task = bar.add_task(f"fetch {source}", total=None)

        def progress(desc, done, total):
            bar.update(task, description=str(desc)[:60], completed=done, total=total)

        try:
            res = fetch(p, source=source, out=out, catalog=catalog, collection=collection, start=start, end=end,
                        max_cloud=max_cloud, bands=bands, resolution=resolution, composite=composite, path=path,
                        progress=progress)
        except KeyboardInterrupt:
            bar.stop()
            click.echo("interrupted: nothing half-written was left under a final name; partial downloads are kept "
                       "as .NAME.part files and resumed by the next run", err=True)
            ctx.exit(130)
    total = sum(i.bytes for i in res.items)
    log.info("fetched %d item(s), %d bytes in %.1f s", len(res.items), total, res.seconds)
    click.echo(f"{len(res.items)} item(s), {total / 1e6:.2f} MB -> {res.manifest}")
