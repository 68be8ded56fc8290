"""Reusable click options and parameter callbacks (like rasterio's rio/options.py)."""
from __future__ import annotations

import click

DATUMS = ("wgs84", "cgcs2000", "gcj02", "bd09")

out_opt = click.option(
    "--out", "out", required=True, type=click.Path(file_okay=False, writable=True), help="Output folder (created if missing)."
)
lang_opt = click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True, help="Report and map language.")
seed_opt = click.option("--seed", type=int, default=42, show_default=True, help="Random seed (same seed → identical files).")
datum_opt = click.option(
    "--datum", type=click.Choice(DATUMS), default="wgs84", show_default=True, help="Datum of the input coordinates (GCJ-02/BD-09 from Chinese web maps)."
)
basemap_opt = click.option(
    "--basemap", type=click.Choice(["none", "osm", "tianditu", "gaode"]), default="none", show_default=True,
    help="Background tiles (none = fully offline).",
)


def progress():
    """A rich progress bar on stderr for long work."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True)
