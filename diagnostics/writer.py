"""Write a screening's outputs into OUT/, every file atomically (temporary file + rename).

| file | content |
|---|---|
| report.html | self-contained report (en or zh) with the map inline |
| map.html | self-contained interactive map |
| map.png | static map of the park (also embedded in the report for printing) |
| findings.geojson | FeatureCollection, one feature per Finding |
| site_visits.csv | ranked visits with WGS-84 / GCJ-02 / BD-09 coordinates and visit order |
| ranking.csv | every enterprise and zone with score, confidence, reasons |
| summary.json | park, indicators, counts, ranking, coverage, versions |
| manifest.json | inputs with checksums, software versions, parameters, run time, outputs |
| layers/ | the map layers (parkscan.maps.io.save_layers) |
| <table>.csv | per-diagnostic tables |
"""
from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from parkscan.aoi.atomic import safe_filename, write_text
from parkscan.aoi.errors import DiagnosticsError

from .manifest import build_manifest
from .sitevisits import write_csv

__all__ = ["write_outputs", "ranking_table"]

log = logging.getLogger(__name__)

RANKING_COLUMNS = ["rank", "type", "id", "name", "industry", "score", "confidence", "n_findings", "reasons", "evidence",
                   "not_assessed", "lon_wgs84", "lat_wgs84"]


def ranking_table(screening, lang: str) -> pd.DataFrame:
    """Every ranked enterprise and zone (ranking.csv)."""
    rows = [[it.rank, it.item_type, it.item_id, it.name, it.industry or "", round(it.score, 4), round(it.confidence, 4),
             len(it.contributions), " | ".join(it.reasons.get(lang, ())), it.evidence, ";".join(it.not_assessed),
             round(it.lon, 7), round(it.lat, 7)] for it in screening.ranking]
    return pd.DataFrame(rows, columns=RANKING_COLUMNS)


def _json(obj: Any) -> str:
    from .findings import _jsonable  # NaN/inf → null, numpy scalars → Python

    return json.dumps(_jsonable(obj), ensure_ascii=False, indent=1, default=str, allow_nan=False)


def write_outputs(screening, out: Path, *, lang: str = "en", basemap: str = "none") -> dict[str, Path]:
    """Write every output of a screening into ``out``; returns output name → path.

    The maps are rendered by :mod:`parkscan.maps` from :func:`parkscan.diagnostics.maplayers.screening_layers`.
    """
    from parkscan.maps.interactive import render_map, save_html
    from parkscan.maps.io import save_layers
    from parkscan.maps.static import render_static

    from .maplayers import screening_layers
    from .report import render_report

    t0 = time.perf_counter()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DiagnosticsError(f"cannot create the output folder {out}: {err}") from err
    paths: dict[str, Path] = {}
    park = screening.park
    title = f"{park.name} — parkscan" if lang == "en" else f"{park.name} — 园区筛查"

    paths["findings.geojson"] = write_text(out / "findings.geojson", _json(screening.findings_geojson()))
    paths["site_visits.csv"] = write_csv(out / "site_visits.csv", screening.site_visits)
    paths["ranking.csv"] = write_csv(out / "ranking.csv", ranking_table(screening, lang))
    for name, table in screening.tables.items():
        fname = f"{safe_filename(name, default='table', max_len=60)}.csv"
        if fname in paths:
            fname = f"table_{fname}"
        table = pd.DataFrame(table)
        for col in table.columns:  # geometries (GeoDataFrame) as WKT
            first = next((v for v in table[col] if v is not None), None) if len(table) else None
            if hasattr(first, "wkt"):
                table[col] = [g.wkt if hasattr(g, "wkt") else "" for g in table[col]]
        paths[fname] = write_csv(out / fname, table)

    layers = screening_layers(screening, lang=lang)
    save_layers(layers, out / "layers")
    attributions = screening.attributions
    fmap = render_map(layers, title=title, basemap=basemap, lang=lang, attributions=attributions)
    save_html(fmap, out / "map.html")
    paths["map.html"] = out / "map.html"
    if basemap == "none":
        map_html = (out / "map.html").read_text(encoding="utf-8")
    else:  # the report embeds a map without tiles: it must stay self-contained
        from parkscan.maps.interactive import to_html

        map_html = to_html(render_map(layers, title=title, basemap="none", lang=lang, attributions=attributions))
    subtitle = {"en": "Desk screening — findings, enterprises and site visits", "zh": "桌面筛查——发现、企业与现场核查"}[lang]
    with tempfile.TemporaryDirectory(prefix=".png-", dir=out) as td:
        tmp_png = Path(td) / "map.png"
        render_static(layers, tmp_png, title=title, subtitle=subtitle, attributions=attributions, lang=lang, fmt="png", dpi=110)
        png = tmp_png.read_bytes()
    from parkscan.aoi.atomic import write_bytes

    paths["map.png"] = write_bytes(out / "map.png", png)
    summary = screening.summary()
    tiles = {"osm": "Basemap of map.html: © OpenStreetMap contributors (openstreetmap.org/copyright)",
             "tianditu": "Basemap of map.html: © 天地图 Tianditu, National Platform for Common GeoSpatial Information Services",
             "gaode": "Basemap of map.html: © 高德地图 AutoNavi"}
    if basemap in tiles:
        summary["attributions"] = list(summary["attributions"]) + [tiles[basemap]]
    paths["report.html"] = write_text(out / "report.html", render_report(screening, summary=summary, map_html=map_html,
                                                                          map_png=png, lang=lang))
    summary["run"]["write_seconds"] = round(time.perf_counter() - t0, 3)
    paths["summary.json"] = write_text(out / "summary.json", _json(summary))
    finished = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    manifest = build_manifest(inputs=screening.inputs, parameters={**screening.params, "basemap": basemap,
                                                                  "weights": screening.weights.as_dict() if screening.weights else None},
                              started=screening.started, finished=finished,
                              seconds=screening.seconds + (time.perf_counter() - t0), outputs=paths)
    paths["manifest.json"] = write_text(out / "manifest.json", _json(manifest))
    log.info("wrote %d outputs to %s", len(paths), out)
    return paths
