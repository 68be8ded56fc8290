/* parkscan map controls (MIT, part of parkscan): before/after swipe, date slider, legend, title. */
(function () {
  "use strict";
  if (typeof L === "undefined") { return; }

  function stop(div) {
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
  }

  /* Legend whose sections follow the layer control: a section is hidden while its layer is off. */
  L.Control.PsLegend = L.Control.extend({
    options: { position: "bottomright", title: "" },
    initialize: function (sections, options) {
      this._sections = sections;
      L.setOptions(this, options);
    },
    onAdd: function (map) {
      var div = L.DomUtil.create("div", "ps-legend");
      var head = L.DomUtil.create("h4", "", div);
      head.innerHTML = this.options.title;
      this._divs = [];
      for (var i = 0; i < this._sections.length; i++) {
        var d = L.DomUtil.create("div", "ps-legend-section", div);
        d.innerHTML = this._sections[i][1];
        this._divs.push(d);
      }
      stop(div);
      map.on("layeradd layerremove", this._update, this);
      this._update();
      return div;
    },
    onRemove: function (map) { map.off("layeradd layerremove", this._update, this); },
    _update: function () {
      for (var i = 0; i < this._sections.length; i++) {
        var l = this._sections[i][0];
        this._divs[i].style.display = (!l || this._map.hasLayer(l)) ? "" : "none";
      }
    }
  });
  L.control.psLegend = function (sections, opts) { return new L.Control.PsLegend(sections, opts); };

  /* Before/after comparison: the "after" image is clipped to the right of a divider the user drags. */
  L.Control.PsSwipe = L.Control.extend({
    options: { position: "bottomleft", label: "Compare", beforeLabel: "", afterLabel: "" },
    initialize: function (before, after, options) {
      this._before = before;
      this._after = after;
      L.setOptions(this, options);
    },
    onAdd: function (map) {
      var div = L.DomUtil.create("div", "ps-swipe leaflet-bar");
      var title = L.DomUtil.create("div", "ps-swipe-title", div);
      title.textContent = this.options.label;
      var row = L.DomUtil.create("div", "ps-swipe-row", div);
      var b = L.DomUtil.create("span", "ps-swipe-b", row);
      b.textContent = this.options.beforeLabel;
      var input = L.DomUtil.create("input", "ps-swipe-range", row);
      input.type = "range"; input.min = "0"; input.max = "100"; input.step = "any"; input.value = "50";
      var a = L.DomUtil.create("span", "ps-swipe-a", row);
      a.textContent = this.options.afterLabel;
      stop(div);
      this._input = input;
      this._line = L.DomUtil.create("div", "ps-swipe-line", map.getContainer());
      L.DomEvent.on(input, "input change", this._update, this);
      map.on("move moveend zoomend viewreset resize overlayadd overlayremove layeradd layerremove", this._update, this);
      var self = this;
      setTimeout(function () { self._update(); }, 0);
      return div;
    },
    onRemove: function (map) {
      map.off("move moveend zoomend viewreset resize overlayadd overlayremove layeradd layerremove", this._update, this);
      if (this._line && this._line.parentNode) { this._line.parentNode.removeChild(this._line); }
    },
    _clip: function (layer, x, side) {
      var el = layer && layer.getElement ? layer.getElement() : null;
      if (!el || !this._map.hasLayer(layer)) { return; }
      var pos = L.DomUtil.getPosition(el) || L.point(0, 0);
      var w = parseFloat(el.style.width) || el.offsetWidth;
      var lx = this._map.containerPointToLayerPoint(L.point(x, 0)).x - pos.x;
      lx = Math.max(0, Math.min(w, lx));
      el.style.clipPath = side === "right" ? "inset(0 0 0 " + lx + "px)" : "inset(0 " + (w - lx) + "px 0 0)";
    },
    _update: function () {
      var map = this._map;
      if (!map || !this._input) { return; }
      var x = map.getSize().x * parseFloat(this._input.value) / 100;
      var both = map.hasLayer(this._before) && map.hasLayer(this._after);
      this._line.style.left = x + "px";
      this._line.style.display = both ? "block" : "none";
      this._clip(this._before, x, "left");
      this._clip(this._after, x, "right");
    }
  });
  L.control.psSwipe = function (before, after, opts) { return new L.Control.PsSwipe(before, after, opts); };

  /* Date slider for multi-date layers: shows one layer of the group at a time. */
  L.Control.PsTime = L.Control.extend({
    options: { position: "bottomleft", label: "Date", labels: [] },
    initialize: function (layers, options) {
      this._layers = layers;
      L.setOptions(this, options);
    },
    onAdd: function (map) {
      var div = L.DomUtil.create("div", "ps-time leaflet-bar");
      var title = L.DomUtil.create("div", "ps-swipe-title", div);
      title.textContent = this.options.label;
      var input = L.DomUtil.create("input", "ps-time-range", div);
      input.type = "range"; input.min = "0"; input.max = String(this._layers.length - 1); input.step = "1";
      input.value = String(this._layers.length - 1);
      var out = L.DomUtil.create("span", "ps-time-label", div);
      stop(div);
      this._input = input; this._out = out;
      L.DomEvent.on(input, "input change", this._update, this);
      var on = -1;
      for (var k = 0; k < this._layers.length; k++) { if (map.hasLayer(this._layers[k])) { on = k; } }
      if (on >= 0) {  // show the latest visible date; if none is visible, wait until the slider is used
        input.value = String(on);
        this._update();
      } else {
        out.textContent = this.options.labels[this._layers.length - 1] || "";
      }
      return div;
    },
    _update: function () {
      var i = parseInt(this._input.value, 10), map = this._map;
      this._out.textContent = this.options.labels[i] || "";
      for (var k = 0; k < this._layers.length; k++) {
        var l = this._layers[k];
        if (k === i) { if (!map.hasLayer(l)) { map.addLayer(l); } }
        else if (map.hasLayer(l)) { map.removeLayer(l); }
      }
    }
  });
  L.control.psTime = function (layers, opts) { return new L.Control.PsTime(layers, opts); };
})();
