"""Publication maps (PNG, PDF) with matplotlib, drawn in the park's local UTM projection.

Why matplotlib rather than a headless-Chromium screenshot of the interactive map: the page is drawn in
Web Mercator at screen resolution, with Leaflet controls that do not belong on paper; matplotlib gives
vector PDF output, a true metric scale bar in the local UTM CRS, a north arrow corrected for grid
convergence, exact font control (Noto Sans CJK for Chinese) and no browser dependency at run time.

Examples
--------
>>> import tempfile, os
>>> from parkscan.maps import VectorLayer
>>> fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
...       "geometry": {"type": "Polygon", "coordinates": [[[120, 31], [120.02, 31], [120.02, 31.02], [120, 31]]]}}]}
>>> p = render_static([VectorLayer("Approved", fc, kind="approved")], os.path.join(tempfile.mkdtemp(), "m.png"), title="Demo")
>>> p.suffix
'.png'
"""
from __future__ import annotations

import datetime as _dt
import logging
import math
import os
import re
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyproj

from parkscan.aoi.atomic import atomic_path
from parkscan.aoi.errors import ParkscanError, ParkscanWarning
from parkscan.aoi.park import utm_crs

from ._build import feature_color_map, focus_bounds, is_number, track_colormap
from ._style import kind_label, layer_style, text
from .layers import Layer, RasterLayer, TrackLayer, VectorLayer

__all__ = ["render_static", "cjk_font", "MissingFontWarning"]

log = logging.getLogger(__name__)

_CJK = re.compile(r"[\u3000-\u9fff\uf900-\ufaff\uff00-\uffef]")
_KIND_MARKERS = {
    "built_up_outside_approved": "s", "farmland_loss": "D", "bare_soil": "h", "landcover_change": "p",
    "mobile_hotspot": "o", "no2_enhancement": "^", "so2_enhancement": "v", "thermal_anomaly": "X",
    "heat_source": "*", "boundary_confusion": "P",
}
_CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Noto Sans CJK JP")


class MissingFontWarning(ParkscanWarning):
    """No CJK font was found: Chinese labels would show as empty boxes (install Debian fonts-noto-cjk)."""


def cjk_font() -> str | None:
    """Family name of an installed CJK font (Noto Sans CJK SC preferred), or None."""
    from matplotlib import font_manager as fm

    names = {f.name for f in fm.fontManager.ttflist}
    return next((f for f in _CJK_FAMILIES if f in names), None)


def _geoms(layer: VectorLayer):
    import shapely.geometry as sg

    for f in layer.features.get("features", []):
        g = f.get("geometry")
        if g:
            try:
                yield sg.shape(g), f.get("properties") or {}
            except (ValueError, TypeError, AttributeError) as err:
                log.warning("layer %s: skipped an unreadable geometry (%s)", layer.name, err)


def _poly_path(poly):
    from matplotlib.path import Path as MPath

    verts, codes = [], []
    for ring in [poly.exterior, *poly.interiors]:
        c = np.asarray(ring.coords)[:, :2]
        if len(c) < 3:
            continue
        verts.append(c)
        codes += [MPath.MOVETO] + [MPath.LINETO] * (len(c) - 2) + [MPath.CLOSEPOLY]
    return MPath(np.concatenate(verts), codes) if verts else None


def _parts(geom, types):
    if geom.geom_type in types:
        return [geom]
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _parts(g, types)]
    return []


def _nice_length(span_m: float) -> float:
    target = span_m / 5.0
    exp = 10 ** math.floor(math.log10(max(target, 1e-6)))
    for m in (5, 2, 1):
        if m * exp <= target:
            return m * exp
    return exp


def _draw_scalebar(ax, length: float, lang: str) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    for i in range(4):
        ax.add_patch(__import__("matplotlib.patches", fromlist=["Rectangle"]).Rectangle(
            (bx + i * length / 4, by), length / 4, h, facecolor="black" if i % 2 == 0 else "white",
            edgecolor="black", lw=0.8, zorder=30))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    for x, t in ((bx, "0"), (bx + length, label)):
        ax.text(x, by + 1.8 * h, t, ha="center", va="bottom", fontsize=8, zorder=30)


def _draw_north(ax, to_local: pyproj.Transformer, lon: float, lat: float, lang: str) -> None:
    x0, y0 = to_local.transform(lon, lat)
    x1, y1 = to_local.transform(lon, lat + 0.01)
    angle = math.atan2(x1 - x0, y1 - y0)  # grid convergence: true north relative to grid up
    cx, cy = 0.93, 0.88
    L = 0.07
    dx, dy = L * math.sin(angle), L * math.cos(angle)
    ax.annotate("", xy=(cx + dx / 2, cy + dy / 2), xytext=(cx - dx / 2, cy - dy / 2), xycoords="axes fraction",
                arrowprops=dict(facecolor="black", width=3, headwidth=10, headlength=10), zorder=31)
    ax.text(cx + dx * 0.5 + 0.012 * math.sin(angle), cy + dy * 0.5 + 0.012, "北 N" if lang == "zh" else "N", transform=ax.transAxes, ha="center",
            va="bottom", fontsize=10, fontweight="bold", zorder=31)


def _warp_raster(lyr: RasterLayer, dst_crs: pyproj.CRS):
    """Reproject an RGBA WGS-84 overlay to the local CRS (nearest neighbour); returns (image, extent)."""
    import rasterio.warp as rw
    from affine import Affine

    img = np.asarray(lyr.image)
    if img.shape[2] == 3:
        img = np.dstack([img, np.full(img.shape[:2], 255, np.uint8)])
    (s, w), (n, e) = lyr.bounds
    h, wd = img.shape[:2]
    src_t = Affine.translation(w, n) @ Affine.scale((e - w) / wd, (s - n) / h)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # affine's `*` inside rasterio
        dst_t, dw, dh = rw.calculate_default_transform("EPSG:4326", dst_crs.to_wkt(), wd, h, left=w, bottom=s, right=e, top=n)
        out = np.zeros((4, dh, dw), np.uint8)
        rw.reproject(np.moveaxis(img, 2, 0).astype(np.uint8), out, src_transform=src_t, src_crs="EPSG:4326",
                     dst_transform=dst_t, dst_crs=dst_crs.to_wkt(), resampling=rw.Resampling.nearest)
    west, north = dst_t.c, dst_t.f
    east, south = west + dst_t.a * dw, north + dst_t.e * dh
    return np.moveaxis(out, 0, 2), (west, east, south, north)


def render_static(
    layers: Sequence[Layer],
    path: str | os.PathLike,
    *,
    title: str,
    subtitle: str = "",
    attributions: Sequence[str] = (),
    lang: str = "en",
    fmt: str | None = None,
    dpi: int = 150,
    size: tuple[float, float] = (12.0, 8.5),
    basemap: Any = "none",
) -> Path:
    """Draw a publication map of ``layers`` into ``path`` (PNG or PDF) and return the path.

    Boundaries (approved solid, managed dashed, sub-parks dotted), rasters (reprojected), tracks coloured by
    concentration with a colour bar, enterprises by industry, findings with one marker per kind, a legend,
    a metric scale bar and a north arrow (both in the park's UTM zone), title, date and data attributions.

    Parameters
    ----------
    layers
        Map layers in WGS-84.
    path
        Output file; its suffix picks the format unless ``fmt`` is given.
    title, subtitle
        Plain text (Chinese is fine when a CJK font is installed; else a :class:`MissingFontWarning`).
    attributions
        Data attributions printed under the map.
    lang
        ``en`` or ``zh`` for the map's own words.
    fmt
        ``png`` or ``pdf``.
    dpi
        Resolution of PNG output.
    size
        Figure size in inches.
    basemap
        ``none`` (default), ``osm``, ``tianditu`` or ``gaode`` (or a :class:`~parkscan.maps.basemaps.TileSpec`):
        tiles fetched once (cached), reprojected under the data; Gaode's GCJ-02 tiles are moved back to WGS-84.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Patch

    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".") or "png").lower()
    if fmt not in ("png", "pdf"):
        raise ParkscanError(f"static map format {fmt!r} is not supported; use png or pdf (or html for the interactive map)")
    layers = [lyr for lyr in layers if getattr(lyr, "show", True) or getattr(lyr, "group", None) == "before_after"]
    bounds = focus_bounds(layers)
    if bounds is None:
        raise ParkscanError("nothing to draw: the layers hold no coordinates")
    clon, clat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    crs = utm_crs(clon, clat)
    to_local = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)

    words = " ".join([title, subtitle, *attributions, *[lyr.name for lyr in layers], *_labels(layers, lang)])
    font = cjk_font()
    # labels are user text (park, enterprise, industry names): a '$' must print, not start TeX math
    rc: dict[str, Any] = {"font.size": 9, "pdf.fonttype": 42, "text.parse_math": False}
    if font:
        rc["font.family"] = [font, "DejaVu Sans"]
    elif _CJK.search(words):
        warnings.warn("no CJK font found (install fonts-noto-cjk); Chinese labels will not render",
                      MissingFontWarning, stacklevel=2)

    import shapely

    def loc(g):
        return shapely.transform(g, lambda xy: np.column_stack(to_local.transform(xy[:, 0], xy[:, 1])))

    handles: list[Any] = []
    with plt.rc_context(rc), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning) if not font else None
        fig, ax = plt.subplots(figsize=size, dpi=dpi)
        fig.subplots_adjust(left=0.03, right=0.72, top=0.9, bottom=0.09)
        ax.set_aspect("equal")
        ax.set_facecolor("#f7f7f4")
        for r in _static_rasters(layers):
            img, ext = _warp_raster(r, crs)
            ax.imshow(img, extent=ext, alpha=float(r.opacity), zorder=1, interpolation="nearest")
            handles += [Patch(facecolor=c, label=f"{r.name}: {k}") for k, c in r.legend.items()]
        vectors = [lyr for lyr in layers if isinstance(lyr, VectorLayer)]
        order = {"approved": 5, "managed": 4, "subpark": 6, "segments": 8, "enterprises": 9, "findings": 10, "heat_sources": 11}
        for v in sorted(vectors, key=lambda v: order.get(v.kind, 7)):
            handles += _draw_vector(ax, v, loc, lang, zorder=order.get(v.kind, 7))
        for k, t in enumerate([lyr for lyr in layers if isinstance(lyr, TrackLayer)][:3]):
            x, y = to_local.transform(np.asarray(t.lon, float), np.asarray(t.lat, float))
            cmap = track_colormap(t)
            pts = np.column_stack([x, y])
            segs = np.stack([pts[:-1], pts[1:]], axis=1)
            vals = np.asarray(t.values, float)
            sv = (vals[:-1] + vals[1:]) / 2
            ok = np.isfinite(sv) & np.all(np.isfinite(segs), axis=(1, 2))
            import matplotlib.colors as mcolors

            mpl_cmap = mcolors.LinearSegmentedColormap.from_list(
                "ps", [cmap(v) for v in np.linspace(cmap.vmin, cmap.vmax, 9)])
            lc = LineCollection(segs[ok], array=sv[ok], cmap=mpl_cmap, norm=mcolors.Normalize(cmap.vmin, cmap.vmax),
                                linewidths=2.2, zorder=7)
            ax.add_collection(lc)
            cax = ax.inset_axes([0.62, 0.06 + 0.1 * k, 0.34, 0.022])
            cb = fig.colorbar(lc, cax=cax, orientation="horizontal")
            cb.set_label(" ".join(s for s in (t.pollutant or t.name, f"({t.unit})" if t.unit else "") if s), fontsize=8)
            cb.ax.tick_params(labelsize=7)
        w, s, e, n = bounds
        xs, ys = to_local.transform([w, e, w, e], [s, s, n, n])
        pad = 0.12 * max(max(xs) - min(xs), max(ys) - min(ys), 200.0)
        ax.set_xlim(min(xs) - pad, max(xs) + pad)
        ax.set_ylim(min(ys) - pad, max(ys) + pad)
        if basemap != "none":
            _draw_basemap(ax, basemap, crs, lang)
            attributions = [*attributions, _tile_attribution(basemap)]
        ax.set_xticks([])
        ax.set_yticks([])
        _draw_scalebar(ax, _nice_length(ax.get_xlim()[1] - ax.get_xlim()[0]), lang)
        _draw_north(ax, to_local, clon, clat, lang)
        if handles:
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.015, 1.0), fontsize=7.5, framealpha=0.92,
                      title=text("legend", lang), title_fontsize=9, borderaxespad=0.0).set_zorder(40)
        fig.suptitle(title, fontsize=15, fontweight="bold", y=0.965)
        sub = " · ".join(x for x in (subtitle, _dt.date.today().isoformat()) if x)
        fig.text(0.5, 0.915, sub, ha="center", fontsize=9, color="#444")
        crs_note = f"{crs.name} (EPSG:{crs.to_epsg()})"
        foot = " | ".join([*[str(a) for a in attributions if str(a).strip()], crs_note, text("made_with", lang)])
        # matplotlib measures wrapped text as TeX when it holds '$' pairs, whatever text.parse_math says
        fig.text(0.03, 0.035, foot, ha="left", fontsize=7, color="#333", wrap="$" not in foot)
        with atomic_path(path, suffix=f".{fmt}") as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi)
        plt.close(fig)
    return path


def _tile_attribution(basemap: Any) -> str:
    from .tiles import ATTRIBUTION_TEXT

    return ATTRIBUTION_TEXT.get(basemap, "") if isinstance(basemap, str) else (basemap.name or "tiles")


def _draw_basemap(ax, basemap: Any, crs: pyproj.CRS, lang: str) -> None:
    """Fetch the tiles covering the axes, reproject them to ``crs`` and draw them underneath everything."""
    import rasterio.warp as rw
    from affine import Affine

    from .tiles import fetch_mosaic

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    to_ll = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform([x0, x1, x0, x1], [y0, y0, y1, y1])
    mosaic = fetch_mosaic((min(lon), min(lat), max(lon), max(lat)), basemap, lang=lang)
    img = mosaic.image if mosaic.image.shape[2] == 4 else np.dstack([mosaic.image, np.full(mosaic.image.shape[:2], 255, np.uint8)])
    w, s, e, n = mosaic.bounds
    h, wd = img.shape[:2]
    src_t = Affine.translation(w, n) @ Affine.scale((e - w) / wd, (s - n) / h)
    width = 1600
    res = (x1 - x0) / width
    dh = int(math.ceil((y1 - y0) / res))
    dst_t = Affine.translation(x0, y1) @ Affine.scale(res, -res)
    out = np.zeros((4, dh, width), np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        rw.reproject(np.moveaxis(img, 2, 0), out, src_transform=src_t, src_crs="EPSG:3857", dst_transform=dst_t,
                     dst_crs=crs.to_wkt(), resampling=rw.Resampling.bilinear)
    ax.imshow(np.moveaxis(out, 0, 2), extent=(x0, x0 + width * res, y1 - dh * res, y1), zorder=0, interpolation="bilinear")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


def _static_rasters(layers: Sequence[Layer]) -> list[RasterLayer]:
    """Rasters drawn on paper: visible thematic ones, and only the latest image of a before/after pair."""
    rasters = [lyr for lyr in layers if isinstance(lyr, RasterLayer)]
    ba = sorted((r for r in rasters if r.group == "before_after" and r.show), key=lambda r: r.time or "")
    out = [r for r in rasters if r.group != "before_after" and r.show]
    if ba:
        out.insert(0, ba[-1])
    return out


def _labels(layers: Sequence[Layer], lang: str) -> list[str]:
    out: list[str] = []
    for lyr in layers:
        if isinstance(lyr, VectorLayer):
            out += [str(k) for k in lyr.legend]
            if lyr.color_by:
                out += [str((f.get("properties") or {}).get(lyr.color_by, "")) for f in lyr.features.get("features", [])][:200]
            if lyr.color_by == "kind":
                out += [kind_label(str((f.get("properties") or {}).get("kind")), lang) for f in lyr.features.get("features", [])]
    return out


def _draw_vector(ax, v: VectorLayer, loc, lang: str, *, zorder: int) -> list[Any]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, PathPatch

    style = layer_style(v.kind, v.style)
    edge = style.get("color", "#3388ff")
    ls = "--" if style.get("dashArray") else "-"
    if v.kind == "subpark":
        ls = ":"
    lw = float(style.get("weight", 2)) * 0.7
    cats, cmap = feature_color_map(v)
    handles: list[Any] = []
    seen: dict[str, str] = {}
    pts: dict[str, list] = {}
    for g, props in _geoms(v):
        g = loc(g)
        val = props.get(v.color_by) if v.color_by else None
        col = None
        if cmap is not None and is_number(val):
            col = cmap(float(val))[:7]
        elif cats is not None:
            col = cats.get("" if val is None else str(val))
        key = "" if val is None else str(val)
        for poly in _parts(g, ("Polygon",)):
            p = _poly_path(poly)
            if p is None:
                continue
            fc = col or style.get("fillColor", edge)
            fill_alpha = max(float(style.get("fillOpacity", 0.2)), 0.25 if col else 0.0)
            if v.kind == "findings":  # areas lightly filled so the park shows through
                fill_alpha = min(fill_alpha, 0.3)
            if style.get("fill", True):
                ax.add_patch(PathPatch(p, facecolor=fc, alpha=fill_alpha, lw=0, zorder=zorder))
            ax.add_patch(PathPatch(p, facecolor="none", edgecolor=col or edge, lw=lw, ls=ls, zorder=zorder + 0.1))
        for line in _parts(g, ("LineString", "LinearRing")):
            c = np.asarray(line.coords)
            ax.plot(c[:, 0], c[:, 1], color=col or edge, lw=max(lw, 2.5) if v.kind == "segments" else lw, ls=ls,
                    zorder=zorder, solid_capstyle="round")
        for pt in _parts(g, ("Point",)):
            w = 1.0
            if is_number(props.get("severity")) and is_number(props.get("confidence")):
                w = 0.45 + 1.1 * float(props["severity"]) * float(props["confidence"])  # size ~ weight in ranking
            pts.setdefault(key, []).append((pt.x, pt.y, col, w))
        seen.setdefault(key, col or edge)
    for key, items in pts.items():
        xy = np.array([(it[0], it[1]) for it in items])
        weights = np.array([it[3] for it in items])
        col = items[0][2] or style.get("fillColor", edge)
        marker = _KIND_MARKERS.get(key, "o") if v.kind in ("findings", "heat_sources") or v.color_by == "kind" else "o"
        size = 110 if v.kind in ("findings", "heat_sources") else 26
        if v.kind == "heat_sources" and not v.color_by:
            marker = "*"
        ax.scatter(xy[:, 0], xy[:, 1], s=size * weights, c=col, marker=marker, edgecolors="black", linewidths=0.6,
                   zorder=zorder + 0.5)
    # legend handles
    if v.legend:
        for k, c in v.legend.items():
            handles.append(Patch(facecolor=c, edgecolor="black", label=str(k)))
    elif cats is not None:
        for key, col in cats.items():
            label = kind_label(key, lang) if v.color_by == "kind" else (key or text("unknown", lang))
            if pts:
                marker = _KIND_MARKERS.get(key, "o") if v.color_by == "kind" else "o"
                handles.append(Line2D([], [], ls="none", marker=marker, markerfacecolor=col, markeredgecolor="black",
                                      markersize=8 if v.kind in ("findings", "heat_sources") else 6,
                                      label=f"{v.name}: {label}" if v.kind != "findings" else label))
            else:
                handles.append(Patch(facecolor=col, edgecolor=col, alpha=0.6, label=label))
    elif pts:
        handles.append(Line2D([], [], ls="none", marker="*" if v.kind == "heat_sources" else "o",
                              markerfacecolor=style.get("fillColor", edge), markeredgecolor="black", markersize=8,
                              label=v.name))
    else:
        handles.append(Line2D([], [], color=edge, lw=max(lw, 1.5), ls=ls, label=v.name))
    return handles
