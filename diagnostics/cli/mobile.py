"""``parkscan mobile``: run the mobile-monitoring (走航) diagnostic alone and write its outputs.

Outputs in OUT/: ``segments.csv``, ``peaks.csv``, ``hotspots.geojson``, ``hotspots.csv``, ``flags.csv``,
``enterprise_scores.csv`` (with --enterprises or a park with enterprises), ``summary.json`` and ``map.html``;
with ``--ml`` also ``lur_cv.csv``, ``nmf_profiles.csv``, ``nmf_matches.csv`` and ``plan.csv`` (``--landcover RASTER``
adds land-cover class fractions to the LUR, fitted with and without them).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Sequence

import click

from .options import DATUMS, basemap_opt, lang_opt, out_opt

__all__ = ["command", "run_mobile", "track_park"]

log = logging.getLogger(__name__)


def track_park(mobile_run, *, buffer_m: float = 300.0, name: str = "track area"):
    """A :class:`~parkscan.aoi.Park` covering the track (convex hull of valid fixes + ``buffer_m``)."""
    import numpy as np
    import shapely

    from parkscan.aoi import Park
    from parkscan.aoi.errors import SourceError

    v = mobile_run.points[mobile_run.points["valid"]]
    lon, lat = v["lon"].to_numpy(float), v["lat"].to_numpy(float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        raise SourceError(f"{name}: no valid GPS fix in the track, so no area can be derived from it; "
                          "give the park boundary with --park")
    lon, lat = lon[ok], lat[ok]
    tmp = Park(id="track", name=name, approved=shapely.Point(float(np.median(lon)), float(np.median(lat))).buffer(0.001))
    x, y = tmp.lonlat_to_xy(lon, lat)
    hull = shapely.MultiPoint(np.column_stack([x, y])).convex_hull.buffer(buffer_m)
    return Park(id="track", name=name, approved=tmp.to_wgs84(hull), metadata={"derived_from": "mobile track"})


def _write_csv(df, path: Path) -> None:
    from ..csvsafe import write_csv

    write_csv(path, df)


def run_mobile(files: Sequence[str | Path], out: str | Path, *, park_path: str | Path | None = None, enterprises: str | Path | None = None,
               datum: str = "wgs84", mapping: str | Path | None = None, tz: str | None = None, wind: dict | None = None,
               lang: str = "en", basemap: str = "none", params: dict | None = None, ml: bool = False,
               landcover: str | Path | None = None) -> dict[str, Any]:
    """Read, analyse and write the outputs of a mobile run; returns the summary dict."""
    import numpy as np

    from parkscan.aoi.atomic import write_text
    from parkscan.models.mobile import analyse
    from parkscan.sources.mobile import read_mobile

    from ..mobile import mobile_result

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    params = dict(params or {})
    mrun = read_mobile(list(files), mapping=mapping, datum=datum, tz=tz, clock_offset_s=params.pop("clock_offset_s", 0.0), lag_s=params.pop("lag_s", None))
    if park_path is not None:
        from parkscan.aoi import read_park

        park = read_park(park_path)
    else:
        park = track_park(mrun, name=Path(files[0]).stem)
    if enterprises is not None:
        from parkscan.aoi import read_enterprises

        park = park.with_enterprises(read_enterprises(enterprises))
    analysis = analyse(mrun, crs=park.crs, enterprises=park.enterprises, wind=wind, **params)
    res = mobile_result(park, mrun, analysis, lang=lang)
    for name in ("segments", "peaks", "flags", "hotspots"):
        _write_csv(res.tables[name], out / f"{name}.csv")
    if park.enterprises is not None:
        _write_csv(res.tables["enterprise_scores"], out / "enterprise_scores.csv")
    fc = {"type": "FeatureCollection", "features": [f.to_feature() for f in res.findings]}
    write_text(out / "hotspots.geojson", json.dumps(fc, ensure_ascii=False, indent=1))
    from parkscan.maps.interactive import render_map, save_html

    title = ("走航监测 · " if lang == "zh" else "Mobile monitoring · ") + park.name
    layers = list(res.layers)
    from shapely.geometry import mapping as _mapping

    from parkscan.maps.layers import VectorLayer

    if park_path is not None:
        layers.insert(0, VectorLayer(name="批复边界" if lang == "zh" else "Approved boundary", kind="approved",
                                     features={"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": park.name},
                                                                                           "geometry": _mapping(park.approved)}]}))
    if park.enterprises is not None and len(park.enterprises):
        e = park.enterprises
        feats = [{"type": "Feature", "properties": {"enterprise_id": str(r.enterprise_id), "name": str(getattr(r, "name", "")),
                                                    "industry": None if getattr(r, "industry", None) is None else str(r.industry)},
                  "geometry": {"type": "Point", "coordinates": [float(r.lon), float(r.lat)]}} for r in e.itertuples()]
        layers.append(VectorLayer(name="企业" if lang == "zh" else "Enterprises", kind="enterprises", color_by="industry",
                                  features={"type": "FeatureCollection", "features": feats},
                                  popup_fields=(("name", "名称" if lang == "zh" else "name"), ("enterprise_id", "ID"),
                                                ("industry", "行业" if lang == "zh" else "industry"))))
    if res.findings:
        layers.append(VectorLayer(name="高值区" if lang == "zh" else "Hotspots", features=fc, kind="findings",
                                  popup_fields=(("explain_zh" if lang == "zh" else "explain_en", "说明" if lang == "zh" else "explanation"),
                                                ("enterprise_id", "企业" if lang == "zh" else "enterprise"),
                                                ("severity", "严重度" if lang == "zh" else "severity"),
                                                ("confidence", "置信度" if lang == "zh" else "confidence"))))
    save_html(render_map(layers, title=title, basemap=basemap, lang=lang, attributions=tuple(res.attributions)), out / "map.html")
    summary = {
        "park": {"id": park.id, "name": park.name, "derived_from_track": park_path is None},
        "indicators": res.indicators, "coverage": res.coverage,
        "hotspots": [{"id": f.id, "lon": f.geometry.x, "lat": f.geometry.y, "severity": round(f.severity, 3), "confidence": round(f.confidence, 3),
                      "enterprise_id": f.enterprise_id, "explain": dict(f.explain)} for f in res.findings],
        "wind": {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in analysis.wind.items()},
        "units": analysis.units, "conditions": mrun.conditions, "params": analysis.params,
        "inputs": [{"id": i.id, "uri": i.uri, "sha256": i.sha256, "size": i.size, "dates": list(i.dates), **i.extra} for i in res.inputs],
        "methods": res.methods, "limitations": res.limitations,
    }
    if ml:
        from ..mobile import ml_tables

        extra, notes = ml_tables(analysis, park.enterprises, landcover=landcover)
        for name, df in extra.items():
            _write_csv(df, out / f"{name}.csv")
        summary["ml"] = {"notes": notes, "tables": sorted(extra)}
    write_text(out / "summary.json", json.dumps(summary, ensure_ascii=False, indent=1, default=str))
    return summary


@click.command("mobile")
@click.argument("files", nargs=-1, required=False, type=click.Path(exists=True, dir_okay=False))
@out_opt
@click.option("--url", "urls", multiple=True, help="Platform URL returning CSV or JSON records (token from $PARKSCAN_MOBILE_TOKEN); repeatable.")
@click.option("--park", "park_path", type=click.Path(exists=True, dir_okay=False), help="Park boundary file; default: the area around the track.")
@click.option("--enterprises", type=click.Path(exists=True, dir_okay=False), help="Enterprise list (CSV/XLSX/GeoJSON) for upwind attribution.")
@click.option("--datum", type=click.Choice(DATUMS), default="wgs84", show_default=True, help="Datum of the files' coordinates (gcj02/bd09 from Chinese apps).")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False), help="Column-mapping file (JSON or CSV) for unusual headers.")
@click.option("--tz", help="Time zone of the files' times (Asia/Shanghai, +08:00); default: as written.")
@click.option("--wind-from", type=click.FloatRange(0, 360), help="Wind direction it blows FROM, degrees (when the files have none).")
@click.option("--wind-speed", type=click.FloatRange(0, 60), help="Wind speed, m/s (with --wind-from).")
@click.option("--roads", type=click.Path(exists=True, dir_okay=False), help="Road lines (GeoJSON/GPKG/SHP, e.g. from OSM) to cut segments along; default: from the tracks.")
@click.option("--min-passes", type=click.IntRange(1, 100), default=4, show_default=True, help="Passes for a reliable segment.")
@click.option("--spacing", "spacing_m", type=click.FloatRange(5, 500), default=30.0, show_default=True, help="Segment length, m.")
@click.option("--ml", is_flag=True, help="Also run the ML comparisons (LUR CV, NMF) and the campaign planner (slower).")
@click.option("--landcover", "landcover", type=click.Path(exists=True, dir_okay=False),
              help="Land-cover class raster (GeoTIFF, any CRS) for the LUR's class fractions within 100/300 m (with --ml).")
@lang_opt
@basemap_opt
def command(files, out, urls, park_path, enterprises, datum, mapping, tz, wind_from, wind_speed, roads, min_passes, spacing_m, ml, landcover,
            lang, basemap):
    """Ingest mobile-monitoring (走航) FILES and find hotspots: segments, peaks, Gi* hotspots, flags and a map.

    Example: parkscan mobile run1.csv run2.xlsx track.gpx --out out/mobile --enterprises enterprises.csv
    """
    if (wind_from is None) != (wind_speed is None):
        raise click.UsageError("give --wind-from and --wind-speed together")
    wind = None if wind_from is None else {"from_deg": float(wind_from), "speed_ms": float(wind_speed)}
    if not files and not urls:
        raise click.UsageError("give at least one FILE or --url")
    if landcover and not ml:
        raise click.UsageError("--landcover feeds the spatial model: add --ml")
    files = list(files)
    if urls:
        from parkscan.sources.mobile.platform import fetch_platform

        for i, u in enumerate(urls):
            files.append(fetch_platform(u, Path(out) / "downloads", name=f"platform_{i + 1}"))
    summary = run_mobile(files, out, park_path=park_path, enterprises=enterprises, datum=datum, mapping=mapping, tz=tz, wind=wind,
                         lang=lang, basemap=basemap, params={"min_passes": min_passes, "spacing_m": spacing_m, "roads": roads}, ml=ml,
                         landcover=landcover)
    ind = summary["indicators"]
    click.echo(f"{ind['mobile_points_valid']}/{ind['mobile_points']} valid points, {ind['mobile_km_driven']} km, "
               f"{ind['mobile_segments']} segments (median {ind['mobile_passes_median']:g} passes), {ind['mobile_hotspots']} hotspots")
    click.echo(f"outputs in {out}: segments.csv peaks.csv hotspots.geojson flags.csv summary.json map.html")
