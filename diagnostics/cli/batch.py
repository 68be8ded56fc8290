"""``parkscan batch``: screen many parks on a Dask cluster."""
from __future__ import annotations

import click

from .options import lang_opt


@click.command("batch")
@click.argument("parks", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--scheduler", default="local", show_default=True, help="'local' (a LocalCluster) or a scheduler address tcp://HOST:PORT.")
@click.option("--workers", type=click.IntRange(1, 256), default=2, show_default=True, help="Workers of the LocalCluster.")
@click.option("--resume", is_flag=True, help="Skip parks already screened with the same inputs (failed parks are retried).")
@lang_opt
def command(parks, out, scheduler, workers, resume, lang):
    """Screen every park in PARKS and rank the parks.

    PARKS is a GeoPackage/GeoJSON of park polygons (an id/name attribute per park), or a CSV
    of park points with an approved area (then each park is a circle of that area, marked
    approximate). Each park is an independent task; a park that fails is recorded with its
    error and the others go on. Outputs: OUT/parks/<id>/ (a full screening each),
    OUT/parks_ranking.csv, OUT/parks_overview.html, OUT/status/<id>.json.

    Example: parkscan batch provinces/jiangsu_parks.gpkg --out out/jiangsu --workers 2
    """
    from rich.console import Console

    from parkscan.diagnostics.batch import run_batch

    from .options import progress

    err = Console(stderr=True)
    with progress() as bar:
        task = bar.add_task("screening parks", total=None)

        def on_progress(st, n, total):
            bar.update(task, completed=n, total=total)
            if st.get("state") != "done":
                from rich.markup import escape

                bar.console.print(f"[yellow]park {escape(str(st['park_id']))} failed:[/] {escape(str(st.get('error', '')))}", highlight=False)

        try:
            res = run_batch(parks, out, scheduler=scheduler, workers=workers, resume=resume, lang=lang, on_progress=on_progress)
        except KeyboardInterrupt:
            err.print(f"interrupted; finished parks are kept. Rerun with --resume to continue: parkscan batch {parks} --out {out} --resume")
            raise SystemExit(130) from None
    click.echo(
        f"{len(res.done)} parks screened, {len(res.skipped)} already done, {len(res.failed)} failed "
        f"in {res.seconds:.1f} s → {res.out_dir / 'parks_ranking.csv'}"
    )
