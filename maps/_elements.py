"""folium elements parkscan needs that folium lacks or gets unsafe (it does not escape popups).

Every element embeds its data with :func:`~parkscan.maps._html.js_json`, so no string can close the
``<script>`` block, and every HTML fragment was built from :func:`~parkscan.maps._html.esc`-aped text.
"""
from __future__ import annotations

from typing import Any, Sequence

from branca.element import Element, MacroElement
from folium.map import Layer
from jinja2 import Template

from ._assets import inline_block
from ._html import js_json

__all__ = ["GeoJsonOverlay", "PolylineGroup", "TitleBox", "Attribution", "SwipeControl", "TimeControl",
           "OfflineAssets", "LegendControl"]


class GeoJsonOverlay(Layer):
    """A GeoJSON overlay whose features carry pre-built, escaped ``_ps_popup``/``_ps_tooltip`` and a ``_ps_style``.

    Points are drawn as circle markers (no icon images, so nothing to load).
    """

    _template = Template(
        """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.geoJSON({{ this.data_js }}, {
  pointToLayer: function (f, ll) { return L.circleMarker(ll, (f.properties && f.properties._ps_style) || {}); },
  style: function (f) { return (f.properties && f.properties._ps_style) || {}; },
  onEachFeature: function (f, l) {
    var p = f.properties || {};
    if (p._ps_popup) { l.bindPopup(p._ps_popup, {maxWidth: 420, maxHeight: 360}); }
    if (p._ps_tooltip) { l.bindTooltip(p._ps_tooltip, {sticky: true}); }
  }
});
{% endmacro %}
"""
    )

    def __init__(self, data: dict, *, name: str, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "PsGeoJson"
        self.data_js = js_json(data)


class PolylineGroup(Layer):
    """A group of coloured multi-polylines: ``[{"c": [[[lat, lon], ...], ...], "k": colour, "t": tooltip}, ...]``."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.featureGroup();
{{ this.data_js }}.forEach(function (s) {
  var pl = L.polyline(s.c, {color: s.k, weight: s.w || 5, opacity: 0.95, lineCap: "round"});
  if (s.t) { pl.bindTooltip(s.t, {sticky: true}); }
  pl.addTo({{ this.get_name() }});
});
{% endmacro %}
"""
    )

    def __init__(self, parts: list[dict[str, Any]], *, name: str, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "PsPolylines"
        self.data_js = js_json(parts)


class LegendControl(MacroElement):
    """The legend: one section per layer, shown only while its layer is on the map."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
L.control.psLegend([{% for el, html in this.sections %}[{{ el.get_name() if el else "null" }}, {{ html }}]{% if not loop.last %}, {% endif %}{% endfor %}], {{ this.options_js }}).addTo({{ this._parent.get_name() }});
{% endmacro %}
"""
    )

    def __init__(self, title_html: str, sections: Sequence[tuple[Any, str]], *, position: str = "bottomright"):
        super().__init__()
        self._name = "PsLegend"
        self.sections = [(el, js_json(html)) for el, html in sections]
        self.options_js = js_json({"title": title_html, "position": position})


class TitleBox(MacroElement):
    """The map title, centred at the top (HTML built from escaped text)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function () {
  var d = L.DomUtil.create("div", "ps-title", {{ this._parent.get_name() }}.getContainer());
  d.innerHTML = {{ this.html_js }};
})();
{% endmacro %}
"""
    )

    def __init__(self, html: str):
        super().__init__()
        self._name = "PsTitle"
        self.html_js = js_json(html)


class Attribution(MacroElement):
    """Adds (escaped) data attributions to the map's attribution control and sets a plain prefix."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function (m) {
  if (!m.attributionControl) { m.attributionControl = L.control.attribution().addTo(m); }
  m.attributionControl.setPrefix({{ this.prefix_js }});
  {{ this.items_js }}.forEach(function (a) { m.attributionControl.addAttribution(a); });
})({{ this._parent.get_name() }});
{% endmacro %}
"""
    )

    def __init__(self, items: Sequence[str], *, prefix: str = "Leaflet"):
        super().__init__()
        self._name = "PsAttribution"
        self.items_js = js_json(list(items))
        self.prefix_js = js_json(prefix)


class SwipeControl(MacroElement):
    """Before/after comparison of two image overlays (drag a divider)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
L.control.psSwipe({{ this.before.get_name() }}, {{ this.after.get_name() }}, {{ this.options_js }}).addTo({{ this._parent.get_name() }});
{% endmacro %}
"""
    )

    def __init__(self, before: Layer, after: Layer, *, label: str, before_label: str, after_label: str):
        super().__init__()
        self._name = "PsSwipe"
        self.before, self.after = before, after
        self.options_js = js_json({"label": label, "beforeLabel": before_label, "afterLabel": after_label})


class TimeControl(MacroElement):
    """A date slider that shows one of several layers at a time."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
L.control.psTime([{% for l in this.layers %}{{ l.get_name() }}{% if not loop.last %}, {% endif %}{% endfor %}], {{ this.options_js }}).addTo({{ this._parent.get_name() }});
{% endmacro %}
"""
    )

    def __init__(self, layers: Sequence[Layer], labels: Sequence[str], *, label: str):
        super().__init__()
        self._name = "PsTime"
        self.layers = list(layers)
        self.options_js = js_json({"labels": list(labels), "label": label})


class OfflineAssets(Element):
    """Inline ``<style>``/``<script>`` blocks with Leaflet and the plugins (from package data)."""

    def __init__(self, sets: Sequence[str]):
        super().__init__("{{ this.text }}")
        self.text = inline_block(sets)
