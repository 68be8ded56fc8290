"""parkscan.sources.remote: satellite data over a park — STAC (windowed COG reads), CDSE, DHuS, FIRMS, local files.

Public API (imported lazily, so ``import parkscan.sources.remote`` stays cheap):

- :func:`load_imagery` (``stac_load``): cloud-masked Sentinel-2 L2A reflectance over a park window.
- :func:`load_thermal` (``stac_load``): Landsat C2 L2 surface temperature over a park window.
- :func:`search_items`, :class:`StacCatalog`, :data:`CATALOGS` (``stac``).
- :class:`HTTPSession` (``http``): the HTTP wrapper every provider uses.
- :func:`fetch` (``fetch``): what ``parkscan fetch`` runs.
"""
from __future__ import annotations

import importlib
import logging

__all__ = ["load_imagery", "load_thermal", "search_items", "StacCatalog", "CATALOGS", "HTTPSession", "fetch"]

logging.getLogger(__name__).addHandler(logging.NullHandler())

_LAZY = {
    "load_imagery": "stac_load",
    "load_thermal": "stac_load",
    "search_items": "stac",
    "StacCatalog": "stac",
    "CATALOGS": "stac",
    "HTTPSession": "http",
    "fetch": "fetch",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
