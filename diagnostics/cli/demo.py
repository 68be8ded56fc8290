"""``parkscan demo``: simulate a park, then screen it exactly as ``parkscan screen`` would.

The scenario written by :func:`parkscan.sources.simulate.simulate` into ``OUT/inputs`` carries a
``scenario.json`` mapping ``screen()`` input names to paths relative to that folder; the demo
hands those files to :func:`parkscan.diagnostics.cli.screen.run_screen`, the one function
behind ``parkscan screen`` — the demo has no private path.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from parkscan.aoi.errors import DiagnosticsError

from .options import lang_opt, seed_opt

__all__ = ["command", "scenario_inputs", "PATH_INPUTS", "LIST_INPUTS"]

PATH_INPUTS = ("enterprises", "imagery", "thermal", "fires", "reference")
"""scenario.json keys holding one path."""
LIST_INPUTS = ("mobile", "no2", "so2")
"""scenario.json keys holding a list of paths."""
_PARK_KEYS = ("park", "boundary", "park_file")


def scenario_inputs(inputs_dir: str | Path) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """Read ``scenario.json`` of a simulated scenario.

    Returns
    -------
    (Path, dict, dict)
        The park boundary file, the ``screen()`` inputs (absolute paths) and the extra
        settings (``datum`` of the boundary, ``start``).

    Raises
    ------
    DiagnosticsError
        When scenario.json is missing or does not name a park boundary.
    """
    inputs_dir = Path(inputs_dir)
    p = inputs_dir / "scenario.json"
    try:
        sc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DiagnosticsError(f"{p}: cannot read the scenario ({err}); rerun `parkscan simulate --out {inputs_dir}`") from err
    flat = dict(sc.get("inputs", {})) if isinstance(sc.get("inputs"), dict) else {}
    for k, v in sc.items():
        flat.setdefault(k, v)
    park = next((flat[k] for k in _PARK_KEYS if flat.get(k)), None)
    if not park:
        raise DiagnosticsError(f"{p} names no park boundary (key 'park'); rerun `parkscan simulate --out {inputs_dir}`")

    def resolve(v: str) -> str:
        return str((inputs_dir / v).resolve())

    inputs: dict[str, Any] = {}
    for k in PATH_INPUTS:
        if flat.get(k):
            inputs[k] = resolve(flat[k])
    for k in LIST_INPUTS:
        v = flat.get(k)
        if v:
            inputs[k] = [resolve(x) for x in ([v] if isinstance(v, str) else v)]
    for k in ("before", "after", "mobile_datum"):
        if flat.get(k):
            inputs[k] = str(flat[k])
    wind = flat.get("wind")
    if isinstance(wind, dict) and "from_deg" in wind and "speed_ms" in wind:
        inputs["wind"] = {"from_deg": float(wind["from_deg"]), "speed_ms": float(wind["speed_ms"])}
    extra = {"datum": str(flat.get("datum") or flat.get("park_datum") or "wgs84")}
    return Path(resolve(park)), inputs, extra


@click.command("demo")
@click.option("--out", "out", default="out/demo", show_default=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--preset", type=click.Choice(["small", "typical", "hard"]), default="typical", show_default=True,
              help="Scenario difficulty (weaker sources, fewer passes, more noise).")
@lang_opt
@seed_opt
def command(out, preset, lang, seed):
    """Simulate a park (OUT/inputs), screen it offline (OUT/) and print where the report is.

    The screening is exactly `parkscan screen` on the simulated files; OUT/inputs/truth.json
    holds what was planted, to compare with the findings.

    Example: parkscan demo --out out/demo --lang zh
    """
    from parkscan.sources.simulate import simulate

    from .screen import run_screen, summary_lines

    t0 = time.perf_counter()
    out = Path(out)
    verbosity = (click.get_current_context().find_root().obj or {}).get("verbosity", 0)
    if verbosity >= 0:
        click.echo(f"simulating a park ({preset}, seed {seed}) into {out / 'inputs'} …", err=True)
    simulate(out / "inputs", seed=seed, preset=preset)
    park, inputs, extra = scenario_inputs(out / "inputs")
    # screened with `parkscan screen`'s default seed, so that `parkscan screen` on OUT/inputs gives the same result
    scr, paths = run_screen(park, out, inputs=inputs, datum=extra["datum"], lang=lang, seed=0, show_progress=verbosity >= 0)
    for line in summary_lines(scr, paths)[:-1]:
        click.echo(line)
    click.echo(f"demo finished in {time.perf_counter() - t0:.1f} s (inputs and truth.json in {out / 'inputs'})")
    click.echo(f"report: {Path(paths['report.html']).resolve()}")
