"""``parkscan map``: re-render a screening's layers as an interactive (HTML) or static (PNG/PDF) map."""
from __future__ import annotations

import json
from pathlib import Path

import click

from .options import basemap_opt

__all__ = ["command"]


def _fmt_callback(ctx, param, value):
    return value.lower() if value else None


@click.command("map")
@click.argument("screening_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file (map.html, map.png or map.pdf).")
@click.option("--format", "fmt", type=click.Choice(["html", "png", "pdf"], case_sensitive=False), default=None,
              callback=_fmt_callback, help="Output format [default: from the --out suffix, else html].")
@basemap_opt
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None,
              help="Language of the map's own labels [default: the screening's language].")
@click.option("--title", default=None, help="Map title [default: the park name].")
@click.option("--dpi", type=click.IntRange(50, 1200), default=200, show_default=True, help="Resolution of PNG output.")
def command(screening_dir: Path, out: Path, fmt: str | None, basemap: str, lang: str | None, title: str | None, dpi: int) -> None:
    """Render SCREENING_DIR (the --out folder of `parkscan screen`/`demo`) as a map.

    HTML is a single self-contained, offline file (with --basemap none); PNG/PDF is a publication map
    with legend, scale bar, north arrow and data attributions.

    \b
    Example:
      parkscan map out/demo --out demo-map.pdf --lang zh
    """
    from parkscan.aoi.errors import ParkscanError
    from parkscan.maps.io import load_layers

    fmt = fmt or (out.suffix.lstrip(".").lower() if out.suffix.lower() in (".html", ".htm", ".png", ".pdf") else "html")
    if fmt == "htm":
        fmt = "html"
    summary: dict = {}
    sp = screening_dir / "summary.json"
    if sp.exists():
        try:
            summary = json.loads(sp.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ParkscanError(f"{sp} is not valid JSON ({err}); re-run the screening") from err
    lang = lang or summary.get("lang") or "en"
    layers = load_layers(screening_dir / "layers")
    park = (summary.get("park") or {}).get("name") or screening_dir.name
    title = title or (f"{park} — parkscan" if lang == "en" else f"{park} — 园区筛查")
    attributions = [str(a) for a in summary.get("attributions") or []]
    if fmt == "html":
        from parkscan.maps.interactive import render_map, save_html

        path = save_html(render_map(layers, title=title, basemap=basemap, lang=lang, attributions=attributions), out)
    else:
        from parkscan.maps.static import render_static

        sub = {"en": "Desk screening", "zh": "桌面筛查"}[lang]
        path = render_static(layers, out, title=title, subtitle=sub, attributions=attributions, lang=lang, fmt=fmt, dpi=dpi,
                             basemap=basemap)
    click.echo(str(path))
