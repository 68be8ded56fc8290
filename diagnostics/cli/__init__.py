"""The ``parkscan`` command line: one click group, one module per command (like rasterio's ``rio``).

Command modules are imported only when their command runs, so ``parkscan --help`` stays fast.
A :class:`~parkscan.aoi.errors.ParkscanError` becomes one line on stderr and exit code 1;
usage errors exit 2; anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import importlib
import logging
import sys

import click

__all__ = ["main", "cli"]

#: command name → (module under parkscan.diagnostics.cli, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "Simulate a park, screen it offline and print the report path."),
    "simulate": ("simulate", "Write a simulated park scenario (inputs + truth.json)."),
    "screen": ("screen", "Screen a park: findings, ranking, site visits, report and map."),
    "fetch": ("fetch", "Fetch satellite data over a park (STAC, CDSE, DHuS, FIRMS, local)."),
    "mobile": ("mobile", "Ingest mobile-monitoring (走航) files and find hotspots."),
    "landcover": ("landcover", "Land-cover training, prediction, accuracy sampling and assessment."),
    "batch": ("batch", "Screen many parks on a Dask cluster and rank them."),
    "map": ("map", "Render a screening as an interactive or static map."),
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when the command is used."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        mod = importlib.import_module(f"parkscan.diagnostics.cli.{COMMANDS[name][0]}")
        return getattr(mod, "command")

    def format_commands(self, ctx, formatter):
        rows = [(n, COMMANDS[n][1]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx):
        from parkscan.aoi.errors import ParkscanError

        try:
            return super().invoke(ctx)
        except ParkscanError as err:
            msg = " ".join(str(err).split())
            log = logging.getLogger("parkscan")
            log.debug("error details", exc_info=True)
            raise click.ClickException(msg) from err


def _configure_logging(verbosity: int) -> None:
    level = {-2: logging.ERROR, -1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    if verbosity < -1:
        level = logging.CRITICAL
    from rich.logging import RichHandler

    from parkscan.sources.remote.credentials import RedactingFilter

    handler = RichHandler(show_time=False, show_path=False, markup=False, console=None)
    handler.addFilter(RedactingFilter())  # every record shown, tracebacks included, without registered secrets
    root = logging.getLogger("parkscan")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    import warnings

    logging.captureWarnings(True)
    if verbosity < 0:
        from parkscan.aoi.errors import ParkscanWarning

        warnings.simplefilter("ignore", ParkscanWarning)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More output (repeat for debug).")
@click.option("-q", "--quiet", count=True, help="Less output.")
@click.version_option(package_name="parkscan")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """parkscan: rapid desk screening of industrial parks from satellites and mobile monitoring.

    Run `parkscan demo` for a worked example on a simulated park (offline).
    """
    verbosity = verbose - quiet
    _configure_logging(verbosity)
    ctx.ensure_object(dict)
    ctx.obj["verbosity"] = verbosity


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="parkscan")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
