"""parkscan.maps: interactive (folium, offline) and static publication maps. Imports only parkscan.aoi.

Renderers are imported lazily (``parkscan.maps.render_map`` loads folium on first use), so importing the
layer classes stays cheap.
"""
from __future__ import annotations

import importlib

from .layers import Layer, RasterLayer, TrackLayer, VectorLayer

__all__ = ["Layer", "RasterLayer", "TrackLayer", "VectorLayer", "render_map", "to_html", "save_html",
           "render_static", "save_layers", "load_layers"]

_LAZY = {
    "render_map": "interactive", "to_html": "interactive", "save_html": "interactive",
    "render_static": "static", "save_layers": "io", "load_layers": "io",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
