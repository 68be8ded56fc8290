"""``parkscan simulate``: write a simulated park scenario (screen() inputs + truth.json)."""
from __future__ import annotations

import click

from .options import out_opt, seed_opt

__all__ = ["command"]


@click.command("simulate")
@out_opt
@seed_opt
@click.option("--preset", type=click.Choice(["small", "typical", "hard"]), default="typical", show_default=True,
              help="Difficulty: small (fast), typical, hard (weak sources, few passes, GCJ-02 track, clouds).")
def command(out: str, seed: int, preset: str) -> None:
    """Write a simulated park scenario with known truth into OUT.

    OUT receives park.geojson, enterprises.csv, imagery/ (Sentinel-2 L2A-like GeoTIFFs), mobile/ (走航 CSV),
    s5p/ (Sentinel-5P NO2-like netCDF), thermal/ (Landsat ST_B10-like GeoTIFF), fires/ (FIRMS CSV),
    scenario.json (the inputs of `parkscan screen`) and truth.json. Same seed → identical files.
    """
    import time

    from parkscan.sources.simulate import simulate

    t0 = time.perf_counter()
    sc = simulate(out, seed=seed, preset=preset)
    t = sc.truth
    changes = t["changes"]["features"]
    outside = sum(f["properties"]["area_ha"] for f in changes if not f["properties"]["inside_approved"])
    click.echo(str(sc.out_dir.resolve()))
    click.echo(
        f"{t['park']['name']} ({preset}, seed {seed}): {t['park']['n_enterprises']} enterprises, "
        f"approved {t['park']['area_ha']['approved']:.0f} ha, managed {t['park']['area_ha']['managed']:.0f} ha; "
        f"{len(t['sources'])} leaking enterprises; {len(changes)} true changes ({outside:.1f} ha outside the approved "
        f"boundary); {len(sc.mobile)} mobile files ({len(t['mobile']['passes'])} passes, {sc.mobile_datum}); "
        f"{len(sc.no2)} S5P NO2 files; {len(t['thermal']['hot_roofs'])} hot roofs; "
        f"{len(t['fires']['persistent'])} persistent heat sources; {time.perf_counter() - t0:.1f} s"
    )
    click.echo(f"inputs for `parkscan screen {sc.park}`: {sc.out_dir / 'scenario.json'}; truth: {sc.truth_path}")
