"""Interactive folium maps of a screening, self-contained and offline (no CDN, no other file).

Examples
--------
>>> from parkscan.maps import VectorLayer
>>> from parkscan.maps.interactive import render_map, to_html
>>> fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "P"},
...       "geometry": {"type": "Polygon", "coordinates": [[[120, 31], [120.1, 31], [120.1, 31.1], [120, 31]]]}}]}
>>> html = to_html(render_map([VectorLayer("Approved", fc, kind="approved")], title="Demo park"))
>>> "https://cdn" in html
False
"""
from __future__ import annotations

import datetime as _dt
import logging
import os
import re
from pathlib import Path
from typing import Sequence

import folium
import numpy as np
from branca.element import Element, MacroElement
from folium import plugins
from jinja2 import Template

from parkscan.aoi.atomic import write_text

from . import basemaps as _bm
from ._build import LegendSection, focus_bounds, layer_bounds, section_html, styled_features, track_colormap, track_runs
from ._elements import (Attribution, GeoJsonOverlay, LegendControl, OfflineAssets, PolylineGroup, SwipeControl,
                        TimeControl, TitleBox)
from ._html import esc, fmt_value
from ._images import to_data_uri, web_mercator_rows
from ._style import text
from .layers import Layer, RasterLayer, TrackLayer, VectorLayer

__all__ = ["render_map", "to_html", "save_html", "layer_bounds", "focus_bounds"]

log = logging.getLogger(__name__)

_ORDER = {"approved": 2, "managed": 1, "subpark": 3, "generic": 4, "segments": 6, "enterprises": 7,
          "findings": 8, "heat_sources": 9}
_OFFLINE_KEY = "parkscan_offline_assets"


def _raster_overlay(lyr: RasterLayer, datum: str, *, show: bool | None = None) -> folium.raster_layers.ImageOverlay:
    (s, w), (n, e) = lyr.bounds
    if datum != "wgs84":
        x, y = _bm.shift_lonlat([w, e], [s, n], datum)
        w, e, s, n = float(x[0]), float(x[1]), float(y[0]), float(y[1])
    img = np.asarray(lyr.image)
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    url = to_data_uri(web_mercator_rows(img, s, n))
    return folium.raster_layers.ImageOverlay(
        image=url, bounds=[[s, w], [n, e]], opacity=float(lyr.opacity), name=esc(lyr.name),
        show=lyr.show if show is None else show, pixelated=True,
    )


def _track_overlay(lyr: TrackLayer, datum: str, lang: str) -> tuple[PolylineGroup, LegendSection]:
    lon, lat = _bm.shift_lonlat(lyr.lon, lyr.lat, datum)
    cmap = track_colormap(lyr)
    runs = track_runs(lon, lat, np.asarray(lyr.values, float), cmap)
    unit = f" {lyr.unit}" if lyr.unit else ""
    for r in runs:
        r["t"] = esc(f"{lyr.pollutant} {fmt_value(r['lo'])}–{fmt_value(r['hi'])}{unit}") if r["lo"] is not None else esc(text("unknown", lang))
        r.pop("lo"), r.pop("hi")
    caption = " ".join(x for x in (lyr.pollutant, f"({lyr.unit})" if lyr.unit else "") if x)
    cols = [cmap(x) for x in np.linspace(cmap.vmin, cmap.vmax, 9)]
    group = PolylineGroup(runs, name=esc(lyr.name), show=lyr.show)
    return group, LegendSection(lyr.name, colorbar=(cols, cmap.vmin, cmap.vmax, caption), element=group)


def _tile_layers(fmap: folium.Map, bm: _bm.Basemap) -> None:
    for i, t in enumerate(bm.tiles):
        folium.TileLayer(
            tiles=t.url, attr=t.attribution or " ", name=t.name, subdomains=t.subdomains, overlay=t.overlay,
            control=True, max_zoom=t.max_zoom, max_native_zoom=t.max_zoom, show=True,
        ).add_to(fmap)


def render_map(
    layers: Sequence[Layer],
    *,
    title: str,
    basemap: str | _bm.Basemap = "none",
    lang: str = "en",
    attributions: Sequence[str] = (),
    subtitle: str = "",
) -> folium.Map:
    """A folium map of ``layers`` (WGS-84) with layer control, legend, scale bar, fullscreen and measure tools.

    Parameters
    ----------
    layers
        :class:`~parkscan.maps.layers.VectorLayer`, :class:`~parkscan.maps.layers.TrackLayer` and
        :class:`~parkscan.maps.layers.RasterLayer` objects. RasterLayers with ``group="before_after"`` get a
        swipe comparison; other groups of dated rasters get a date slider.
    title
        Shown at the top of the map and as the page title (escaped).
    basemap
        ``none`` (default, fully offline), ``osm``, ``tianditu`` (needs ``TIANDITU_KEY``) or ``gaode``
        (GCJ-02 tiles: every overlay is shifted from WGS-84 to GCJ-02 to line up), or a
        :class:`~parkscan.maps.basemaps.Basemap` for other tile servers (e.g. an intranet tile cache).
    lang
        ``en`` or ``zh`` for the map's own labels.
    attributions
        Data attributions, always shown in the attribution control (plain text, escaped).
    subtitle
        Second title line (plain text); default: today's date.

    Returns
    -------
    folium.Map
        Not saved; use :func:`to_html` / :func:`save_html` for the offline file.
    """
    bm = basemap if isinstance(basemap, _bm.Basemap) else _bm.basemap(basemap, lang=lang)
    datum = bm.datum
    bounds = focus_bounds(layers)
    if bounds is None:
        center, zoom = [35.0, 105.0], 4
    else:
        center, zoom = [(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], 13
    fmap = folium.Map(location=center, zoom_start=zoom, tiles=None, control_scale=False, prefer_canvas=False,
                      max_zoom=20)
    _metric_scale(fmap)
    fmap.get_root().title = esc(title)
    _tile_layers(fmap, bm)

    sections: list[LegendSection] = []
    rasters = [lyr for lyr in layers if isinstance(lyr, RasterLayer)]
    tracks = [lyr for lyr in layers if isinstance(lyr, TrackLayer)]
    vectors = sorted((lyr for lyr in layers if isinstance(lyr, VectorLayer)), key=lambda v: _ORDER.get(v.kind, 5))

    # rasters at the bottom; group them for before/after and date sliders
    groups: dict[str, list[RasterLayer]] = {}
    for r in rasters:
        if r.group:
            groups.setdefault(r.group, []).append(r)
    overlays: dict[int, folium.raster_layers.ImageOverlay] = {}
    rasters.sort(key=lambda r: 0 if r.group == "before_after" else 1)  # imagery below the thematic rasters
    for r in rasters:
        overlays[id(r)] = _raster_overlay(r, datum).add_to(fmap)
        if r.legend:
            sections.append(LegendSection(r.name, [_entry(k, v) for k, v in r.legend.items()], element=overlays[id(r)]))
    for gname, members in groups.items():
        dated = sorted(members, key=lambda r: (r.time is None, r.time or ""))
        if len(dated) < 2:
            continue
        if gname == "before_after":
            before, after = dated[0], dated[-1]
            SwipeControl(overlays[id(before)], overlays[id(after)], label=text("compare", lang),
                         before_label=before.time or text("before", lang),
                         after_label=after.time or text("after", lang)).add_to(fmap)
        elif all(r.time for r in dated):
            TimeControl([overlays[id(r)] for r in dated], [str(r.time) for r in dated],
                        label=f"{gname} · {text('date', lang)}").add_to(fmap)

    below = [v for v in vectors if _ORDER.get(v.kind, 5) < 6]
    above = [v for v in vectors if _ORDER.get(v.kind, 5) >= 6]
    for v in below:
        _add_vector(fmap, v, datum, lang, sections)
    for t in tracks:
        overlay, sec = _track_overlay(t, datum, lang)
        overlay.add_to(fmap)
        sections.append(sec)
    for v in above:  # segments, enterprises, findings, heat sources drawn last = on top
        _add_vector(fmap, v, datum, lang, sections)

    if bounds is not None:
        w, s, e, n = bounds
        if datum != "wgs84":
            x, y = _bm.shift_lonlat([w, e], [s, n], datum)
            w, e, s, n = float(x[0]), float(x[1]), float(y[0]), float(y[1])
        fmap.fit_bounds([[s, w], [n, e]], padding=(20, 20))

    sub = subtitle or _dt.date.today().isoformat()
    TitleBox(f"{esc(title)}<small>{esc(sub)}</small>").add_to(fmap)
    sections.sort(key=lambda sec: 0 if not sec.title else 1)  # single-line entries (boundaries) first
    if sections:
        LegendControl(esc(text("legend", lang)), [(sec.element, section_html(sec)) for sec in sections]).add_to(fmap)
    attrs = [esc(a) for a in attributions if str(a).strip()]
    Attribution(attrs, prefix="Leaflet | parkscan").add_to(fmap)
    plugins.Fullscreen(position="topleft", title="全屏" if lang == "zh" else "Full screen",
                       title_cancel="退出全屏" if lang == "zh" else "Exit full screen").add_to(fmap)
    plugins.MeasureControl(position="topleft", primary_length_unit="meters", secondary_length_unit="kilometers",
                           primary_area_unit="hectares", secondary_area_unit="sqmeters").add_to(fmap)
    n_overlays = len(layers) + sum(1 for t in bm.tiles)
    folium.LayerControl(position="topright", collapsed=n_overlays > 12).add_to(fmap)
    fmap._parkscan_lang = lang  # noqa: SLF001 — picked up by to_html for the measure tool's language
    return fmap


def _metric_scale(fmap: folium.Map) -> None:
    """Leaflet's scale bar in metres only (folium's control_scale shows feet too)."""
    _ScaleBar().add_to(fmap)


class _ScaleBar(MacroElement):
    _template = Template(
        """{% macro script(this, kwargs) %}
L.control.scale({imperial: false, maxWidth: 160}).addTo({{ this._parent.get_name() }});
{% endmacro %}"""
    )


def _entry(label, color):
    from ._build import LegendEntry
    from ._html import safe_color

    return LegendEntry(str(label), safe_color(color), "box")


def _add_vector(fmap: folium.Map, v: VectorLayer, datum: str, lang: str, sections: list[LegendSection]) -> None:
    fc, sec = styled_features(v, lang=lang)
    fc = _bm.shift_geojson(fc, datum)
    sec.element = GeoJsonOverlay(fc, name=esc(v.name), show=v.show).add_to(fmap)
    if sec.entries or sec.colorbar:
        sections.append(sec)


def _strip_cdn(element) -> None:
    """Remove every CDN script/stylesheet declaration in the element tree (replaced by inline assets)."""
    if hasattr(element, "default_js"):
        element.default_js = []
    if hasattr(element, "default_css"):
        element.default_css = []
    for child in list(getattr(element, "_children", {}).values()):
        _strip_cdn(child)


def to_html(fmap: folium.Map) -> str:
    """The map as one self-contained HTML page (Leaflet and plugins inlined, no network requests).

    Folium's CDN links (Leaflet, jQuery, Bootstrap, Font Awesome, awesome-markers, plugins) are
    removed; Leaflet, leaflet.fullscreen, leaflet-measure and parkscan's controls are inlined from
    package data. jQuery and Bootstrap are not shipped: nothing parkscan draws needs them.
    """
    fig = fmap.get_root()
    _strip_cdn(fig)
    lang = getattr(fmap, "_parkscan_lang", "en")
    if _OFFLINE_KEY not in fig.header._children:
        sets = ["leaflet", "fullscreen", "measure_zh" if lang == "zh" else "measure", "parkscan"]
        fig.header.add_child(OfflineAssets(sets), name=_OFFLINE_KEY, index=0)
        fig.header.add_child(Element(f'<meta name="generator" content="parkscan">'), name="parkscan_meta")
    html = fig.render()
    if lang == "zh":
        html = html.replace("<html>", '<html lang="zh-CN">', 1)
    remote = re.findall(r"""<(?:script|link|img|iframe)[^>]+(?:src|href)\s*=\s*["']?(?:https?:)?//[^"'>\s]+""", html)
    if remote:
        log.warning("map HTML still refers to remote resources: %s", remote[:3])
    return html


def save_html(fmap: folium.Map, path: str | os.PathLike) -> Path:
    """Write :func:`to_html` to ``path`` atomically; returns the path."""
    return write_text(Path(path), to_html(fmap))
