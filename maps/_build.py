"""Turn parkscan layers into map-ready pieces: styled, escaped GeoJSON, coloured track runs, legend entries.

Shared by the interactive (folium) and static (matplotlib) renderers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ._html import esc, fmt_value, safe_color, table_html
from ._style import category_colors, kind_label, layer_style, text
from .layers import Layer, RasterLayer, TrackLayer, VectorLayer

__all__ = ["LegendEntry", "LegendSection", "styled_features", "track_runs", "track_colormap", "section_html", "resample_track",
           "is_number", "feature_color_map", "layer_bounds", "focus_bounds"]

_INTERNAL = {"style", "_ps_style", "_ps_popup", "_ps_tooltip", "geometry"}
_NAME_KEYS = ("name", "企业名称", "title", "label", "id")


@dataclass
class LegendEntry:
    """One legend line."""

    label: str
    color: str
    shape: str = "box"
    """``box`` (area), ``line``, ``dash`` (dashed line) or ``dot`` (point)."""


@dataclass
class LegendSection:
    """A titled block of legend entries, or a colour bar."""

    title: str
    entries: list[LegendEntry] = field(default_factory=list)
    colorbar: tuple[list[str], float, float, str] | None = None
    """(colours low→high, vmin, vmax, caption)."""
    element: Any = None
    """The map element the section describes (the legend hides the section while it is off)."""


def is_number(v: Any) -> bool:
    """True for real numbers (not bools, not NaN)."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(float(v))


def _geom_shape(features: list[dict]) -> str:
    types = {((f.get("geometry") or {}).get("type") or "") for f in features}
    if types and types <= {"Point", "MultiPoint"}:
        return "dot"
    if types and types <= {"LineString", "MultiLineString"}:
        return "line"
    return "box"


def feature_color_map(layer: VectorLayer) -> tuple[dict[str, str] | None, Any]:
    """(category → colour, or None) and a numeric colormap (or None) for ``layer.color_by``."""
    if not layer.color_by:
        return None, None
    vals = [(f.get("properties") or {}).get(layer.color_by) for f in layer.features.get("features", [])]
    present = [v for v in vals if v is not None]
    if present and all(is_number(v) for v in present):
        import branca.colormap as bcm

        lo, hi = float(min(present)), float(max(present))
        if hi <= lo:
            hi = lo + 1.0
        return None, bcm.linear.YlOrRd_09.scale(lo, hi)
    return category_colors(vals, given={str(k): safe_color(v) for k, v in layer.legend.items()}), None


def _popup(props: Mapping[str, Any], layer: VectorLayer, lang: str) -> str:
    if "kind" in props and "severity" in props:  # a Finding feature
        explain = props.get(f"explain_{lang}") or props.get("explain_en") or ""
        if isinstance(props.get("explain"), Mapping):
            explain = props["explain"].get(lang) or props["explain"].get("en") or explain
        rows: list[tuple[str, Any]] = [
            (text("severity", lang), props.get("severity")),
            (text("confidence", lang), props.get("confidence")),
        ]
        if props.get("enterprise_id"):
            ent = props.get("enterprise_id")
            if props.get("enterprise_name"):
                ent = f"{props['enterprise_name']} ({ent})"
            rows.append((text("enterprise", lang), ent))
        for key, label in layer.popup_fields:
            if key in props and key not in ("kind", "severity", "confidence", "enterprise_id"):
                rows.append((label, props[key]))
        ev = props.get("evidence")
        if isinstance(ev, Mapping) and ev:
            rows.append((text("evidence", lang), ev))
        if props.get("sources"):
            rows.append((text("sources", lang), props.get("sources")))
        head = f"<h4>{esc(kind_label(str(props['kind']), lang))}</h4>"
        para = f"<p>{esc(explain)}</p>" if explain else ""
        return f'<div class="ps-popup">{head}{para}{table_html(rows)}</div>'
    if layer.popup_fields:
        rows = [(label, props.get(key)) for key, label in layer.popup_fields]
    else:
        rows = [(k, v) for k, v in props.items() if k not in _INTERNAL and not str(k).startswith("_")][:20]
    title = next((props[k] for k in _NAME_KEYS if props.get(k) not in (None, "")), None)
    head = f"<h4>{esc(title)}</h4>" if title is not None else f"<h4>{esc(layer.name)}</h4>"
    return f'<div class="ps-popup">{head}{table_html(rows)}</div>'


def _tooltip(props: Mapping[str, Any], layer: VectorLayer, lang: str) -> str:
    if "kind" in props and "severity" in props:
        return esc(kind_label(str(props["kind"]), lang))
    name = next((props[k] for k in _NAME_KEYS if props.get(k) not in (None, "")), None)
    return esc(name if name is not None else layer.name)


def layer_bounds(layers: Iterable[Layer]) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of all layers (WGS-84), or None when they hold no coordinates."""
    xs: list[float] = []
    ys: list[float] = []

    def walk(c):
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
            xs.append(float(c[0]))
            ys.append(float(c[1]))
        elif isinstance(c, (list, tuple)):
            for s in c:
                walk(s)

    for lyr in layers:
        if isinstance(lyr, VectorLayer):
            for f in lyr.features.get("features", []):
                g = f.get("geometry") or {}
                for gg in g.get("geometries", [g]):
                    walk(gg.get("coordinates"))
        elif isinstance(lyr, TrackLayer):
            lo, la = np.asarray(lyr.lon, float), np.asarray(lyr.lat, float)
            ok = np.isfinite(lo) & np.isfinite(la)
            if ok.any():
                xs += [float(lo[ok].min()), float(lo[ok].max())]
                ys += [float(la[ok].min()), float(la[ok].max())]
        elif isinstance(lyr, RasterLayer):
            (s, w), (n, e) = lyr.bounds
            xs += [w, e]
            ys += [s, n]
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def focus_bounds(layers: Sequence[Layer]) -> tuple[float, float, float, float] | None:
    """Extent the map opens on: the park's boundaries when there are any, else all layers.

    Regional rasters (NO2) and long mobile drives would otherwise zoom the map out far from the park.
    """
    focus = [lyr for lyr in layers if isinstance(lyr, VectorLayer) and lyr.kind in ("approved", "managed", "subpark")]
    return layer_bounds(focus) or layer_bounds(layers)


def styled_features(layer: VectorLayer, *, lang: str = "en") -> tuple[dict[str, Any], LegendSection]:
    """Features with ``_ps_style``, escaped ``_ps_popup`` and ``_ps_tooltip``; and the layer's legend section.

    Only those three properties (plus ``_ps_color``) are kept, so the page holds no unescaped text.
    """
    feats = list(layer.features.get("features", []))
    base = layer_style(layer.kind, layer.style)
    cats, cmap = feature_color_map(layer)
    out_feats = []
    for f in feats:
        props = dict(f.get("properties") or {})
        style = {k: v for k, v in base.items()}
        color = None
        if layer.color_by:
            v = props.get(layer.color_by)
            if cmap is not None and is_number(v):
                color = cmap(float(v))
            elif cats is not None:
                color = cats.get("" if v is None else str(v))
        if color:
            style["fillColor"] = color
            if layer.kind not in ("enterprises",):
                style["color"] = color
        gtype = (f.get("geometry") or {}).get("type", "")
        if "severity" in props and "kind" in props:
            if gtype in ("Polygon", "MultiPolygon"):  # areas: lighter fill so the park shows through
                style["fillOpacity"] = min(float(style.get("fillOpacity", 0.3)), 0.35)
            elif is_number(props.get("severity")) and is_number(props.get("confidence")):
                # point size grows with severity × confidence (the finding's weight in the ranking)
                style["radius"] = round(5 + 7 * float(props["severity"]) * float(props["confidence"]), 1)
        if isinstance(props.get("style"), Mapping):  # per-feature style from the producer
            style.update({k: v for k, v in props["style"].items() if isinstance(v, (int, float, str, bool))})
        for k in ("color", "fillColor"):
            if k in style:
                style[k] = safe_color(style[k])
        out_feats.append({
            "type": "Feature",
            "geometry": f.get("geometry"),
            "properties": {
                "_ps_style": style,
                "_ps_popup": _popup(props, layer, lang),
                "_ps_tooltip": _tooltip(props, layer, lang),
                "_ps_color": style.get("fillColor", style.get("color")),
            },
        })
    section = LegendSection(layer.name)
    shape = _geom_shape(feats)
    if layer.legend:
        section.entries = [LegendEntry(str(k), safe_color(v), shape) for k, v in layer.legend.items()]
    elif cats:
        for cat, col in cats.items():
            if layer.color_by == "kind":
                label = kind_label(cat, lang)
            elif cat == "":
                label = text("unknown", lang)
            else:
                label = cat
            section.entries.append(LegendEntry(label, col, shape))
    elif cmap is not None:
        section.colorbar = ([cmap(x) for x in np.linspace(cmap.vmin, cmap.vmax, 9)], cmap.vmin, cmap.vmax, layer.color_by or "")
    else:
        if shape == "box":
            shape = "dash" if base.get("dashArray") else ("line" if layer.kind in ("approved", "managed", "subpark") else "box")
        col = safe_color(base.get("fillColor") if shape == "dot" else base.get("color"))
        section.entries = [LegendEntry(layer.name, col, shape)]
        section.title = ""
    return {"type": "FeatureCollection", "features": out_feats}, section


def track_colormap(track: TrackLayer):
    """A branca LinearColormap over the 2nd–98th percentile of the track's values."""
    import branca.colormap as bcm

    v = np.asarray(track.values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        lo, hi = 0.0, 1.0
    else:
        lo, hi = (float(x) for x in np.percentile(v, [2, 98]))
        if hi <= lo:
            hi = lo + 1.0
    return bcm.linear.YlOrRd_09.scale(lo, hi)


def track_runs(lon: np.ndarray, lat: np.ndarray, values: np.ndarray, cmap, *, n_classes: int = 9,
               max_gap_m: float = 500.0, simplify_deg: float = 1.5e-5,
               step_m: float = 20.0) -> list[dict[str, Any]]:
    """Consecutive track segments grouped into colour classes: ``[{"k": colour, "c": [[[lat, lon], ...]...], "lo", "hi"}]``.

    A segment's value is the mean of its two ends; segments with no value are grey; jumps longer than
    ``max_gap_m`` are not drawn. Each run is simplified (Douglas–Peucker, ``simplify_deg`` ≈ 1.5 m),
    and the track is first averaged into ``step_m`` pieces (:func:`resample_track`), which keeps a
    40 000-point drive to a few hundred kB of HTML without changing what is seen at street zoom.
    """
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    val = np.asarray(values, float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    lon, lat, val = lon[ok], lat[ok], val[ok]
    if lon.size < 2:
        return []
    if step_m > 0:
        lon, lat, val = resample_track(lon, lat, val, step_m=step_m, max_gap_m=max_gap_m)
    pair = np.vstack([val[:-1], val[1:]])
    cnt = np.isfinite(pair).sum(axis=0)
    seg = np.where(cnt > 0, np.where(np.isfinite(pair), pair, 0.0).sum(axis=0) / np.maximum(cnt, 1), np.nan)
    dx = np.diff(lon) * 111320.0 * np.cos(np.radians(lat[:-1]))
    dy = np.diff(lat) * 110540.0
    gap = np.hypot(dx, dy) > max_gap_m
    edges = np.linspace(cmap.vmin, cmap.vmax, n_classes + 1)
    cls = np.clip(np.digitize(seg, edges[1:-1]), 0, n_classes - 1)
    cls = np.where(np.isfinite(seg), cls, -1)
    groups: dict[int, list[list[list[float]]]] = {}
    i = 0
    n = seg.size
    while i < n:
        if gap[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and cls[j + 1] == cls[i] and not gap[j + 1]:
            j += 1
        groups.setdefault(int(cls[i]), []).append(_simplify(lon[i:j + 2], lat[i:j + 2], simplify_deg))
        i = j + 1
    out = []
    for c in sorted(groups):
        if c < 0:
            out.append({"k": "#9e9e9e", "c": groups[c], "lo": None, "hi": None, "w": 3})
        else:
            mid = 0.5 * (edges[c] + edges[c + 1])
            out.append({"k": cmap(mid), "c": groups[c], "lo": float(edges[c]), "hi": float(edges[c + 1])})
    return out


def resample_track(lon: np.ndarray, lat: np.ndarray, val: np.ndarray, *, step_m: float = 20.0,
                   max_gap_m: float = 500.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Average a track into pieces of about ``step_m`` along its path (values: mean of the finite ones).

    A new piece also starts after every jump longer than ``max_gap_m`` so gaps stay gaps.
    """
    dx = np.diff(lon) * 111320.0 * np.cos(np.radians(lat[:-1]))
    dy = np.diff(lat) * 110540.0
    d = np.hypot(dx, dy)
    piece = np.concatenate([[0], np.cumsum(d)]) // step_m
    piece = piece + np.concatenate([[0], np.cumsum(d > max_gap_m)]) * 1e9  # never merge across a gap
    _, start, inverse = np.unique(piece, return_index=True, return_inverse=True)
    order = np.argsort(start)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    idx = rank[inverse]
    n = order.size
    fin = np.isfinite(val)
    s = np.bincount(idx, weights=np.where(fin, val, 0.0), minlength=n)
    c = np.bincount(idx, weights=fin.astype(float), minlength=n)
    lo = np.bincount(idx, weights=lon, minlength=n) / np.bincount(idx, minlength=n)
    la = np.bincount(idx, weights=lat, minlength=n) / np.bincount(idx, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(c > 0, s / np.maximum(c, 1), np.nan)
    return lo, la, v


def _simplify(lon: np.ndarray, lat: np.ndarray, tol: float) -> list[list[float]]:
    """[[lat, lon], ...] of a run, Douglas–Peucker simplified when ``tol`` > 0."""
    if tol > 0 and lon.size > 2:
        import shapely

        line = shapely.simplify(shapely.linestrings(np.column_stack([lon, lat])), tol, preserve_topology=False)
        xy = shapely.get_coordinates(line)
        lon, lat = xy[:, 0], xy[:, 1]
    return np.column_stack([np.round(lat, 5), np.round(lon, 5)]).tolist()


def section_html(sec: LegendSection) -> str:
    """One legend section as HTML built from escaped text."""
    parts = []
    if sec.title:
        parts.append(f"<h5>{esc(sec.title)}</h5>")
    for e in sec.entries:
        cls = {"box": "ps-sw", "dot": "ps-sw ps-dot", "line": "ps-sw ps-line", "dash": "ps-sw ps-line ps-dash"}.get(e.shape, "ps-sw")
        prop = "border-color" if e.shape in ("line", "dash") else "background"
        parts.append(f'<div><span class="{cls}" style="{prop}:{esc(safe_color(e.color))}"></span>{esc(e.label)}</div>')
    if sec.colorbar:
        cols, lo, hi, cap = sec.colorbar
        grad = ",".join(esc(safe_color(c)) for c in cols)
        parts.append(f'<div class="ps-colorbar" style="background:linear-gradient(to right,{grad})"></div>')
        parts.append(f'<div class="ps-colorbar-ticks"><span>{esc(fmt_value(lo))}</span>'
                     f'<span>{esc(fmt_value((lo + hi) / 2))}</span><span>{esc(fmt_value(hi))}</span></div>')
        if cap:
            parts.append(f"<div>{esc(cap)}</div>")
    return "".join(parts)

