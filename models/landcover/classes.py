"""The park class set and mappings from other land-cover schemas.

Every classifier in :mod:`parkscan.models.landcover` predicts the five park classes below
(integer codes 1–5; 0 means no data). Reference rasters and labelled polygons in other
schemas (ESA WorldCover, Google Dynamic World, Slovenian RABA/eo-learn LULC, or plain class
names) are mapped to this set with :func:`map_classes`.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from parkscan.aoi.errors import ModelError

__all__ = ["PARK_CLASSES", "CLASS_CODES", "CLASS_COLOURS", "CLASS_LABELS", "NODATA", "SCHEMAS", "map_classes", "class_code"]

NODATA = 0
"""Code of "no data / not classified"."""

PARK_CLASSES: tuple[str, ...] = ("built_up", "cropland", "vegetation", "water", "bare_soil")
"""Park class names; their codes are 1..5 in this order."""

CLASS_CODES: dict[str, int] = {name: i + 1 for i, name in enumerate(PARK_CLASSES)}
"""Class name → integer code."""

CLASS_COLOURS: dict[str, str] = {
    "built_up": "#d7191c",
    "cropland": "#fdae61",
    "vegetation": "#1a9641",
    "water": "#2b83ba",
    "bare_soil": "#a6761d",
}
"""Display colours (hex) of the park classes."""

CLASS_LABELS: dict[str, dict[str, str]] = {
    "built_up": {"en": "Built-up / industrial", "zh": "建设用地/工业"},
    "cropland": {"en": "Cropland", "zh": "耕地"},
    "vegetation": {"en": "Other vegetation", "zh": "其他植被"},
    "water": {"en": "Water", "zh": "水体"},
    "bare_soil": {"en": "Bare soil", "zh": "裸土"},
}
"""Human labels in English and Chinese."""

#: schema name → {source code or name: park class name or None (no data)}
SCHEMAS: dict[str, Mapping[object, str | None]] = {
    # ESA WorldCover 10 m (2020/2021) map codes
    "worldcover": {10: "vegetation", 20: "vegetation", 30: "vegetation", 40: "cropland", 50: "built_up",
                   60: "bare_soil", 70: None, 80: "water", 90: "vegetation", 95: "vegetation", 100: "vegetation", 0: None},
    # Google Dynamic World label band
    "dynamic_world": {0: "water", 1: "vegetation", 2: "vegetation", 3: "vegetation", 4: "cropland", 5: "vegetation",
                      6: "built_up", 7: "bare_soil", 8: None},
    # eo-learn example / Slovenian LULC codes (shared/data/sentinel2-slovenia-eolearn)
    "eolearn": {0: None, 1: "cropland", 2: "vegetation", 3: "vegetation", 4: "vegetation", 5: "water", 6: "vegetation",
                7: "bare_soil", 8: "built_up", 9: "bare_soil", 10: None},
    # parkscan.sources.simulate truth rasters (truth/landcover_YYYY.tif)
    "simulate": {1: "built_up", 2: "built_up", 3: "cropland", 4: "vegetation", 5: "water", 6: "bare_soil", 0: None},
    # already park codes
    "park": {0: None, 1: "built_up", 2: "cropland", 3: "vegetation", 4: "water", 5: "bare_soil"},
}

_NAME_ALIASES: dict[str, str] = {
    "built_up": "built_up", "builtup": "built_up", "built-up": "built_up", "urban": "built_up", "industrial": "built_up",
    "artificial": "built_up", "artificial_surface": "built_up", "artificial surface": "built_up", "impervious": "built_up",
    "建设用地": "built_up", "工业": "built_up", "建筑": "built_up",
    "cropland": "cropland", "crop": "cropland", "crops": "cropland", "farmland": "cropland", "cultivated": "cropland",
    "cultivated land": "cropland", "agriculture": "cropland", "耕地": "cropland",
    "vegetation": "vegetation", "forest": "vegetation", "trees": "vegetation", "grass": "vegetation", "grassland": "vegetation",
    "shrub": "vegetation", "shrubland": "vegetation", "shrub_and_scrub": "vegetation", "wetland": "vegetation",
    "林地": "vegetation", "草地": "vegetation", "植被": "vegetation",
    "water": "water", "水体": "water", "水域": "water",
    "bare_soil": "bare_soil", "bare": "bare_soil", "bare soil": "bare_soil", "bareland": "bare_soil", "裸土": "bare_soil",
    "裸地": "bare_soil",
}


def class_code(name: str) -> int:
    """Park class code of a class name or alias (case-insensitive, English or Chinese).

    Raises
    ------
    ModelError
        If the name is not a known class or alias.

    Examples
    --------
    >>> class_code("Industrial"), class_code("耕地")
    (1, 2)
    """
    key = str(name).strip().lower()
    if key.isdigit() and int(key) in SCHEMAS["park"] and SCHEMAS["park"][int(key)]:
        return int(key)
    if key not in _NAME_ALIASES:
        raise ModelError(
            f"unknown land-cover class {name!r}; use one of {', '.join(PARK_CLASSES)} (or an alias such as "
            "urban, forest, farmland, 耕地)"
        )
    return CLASS_CODES[_NAME_ALIASES[key]]


def map_classes(values: np.ndarray, schema: str | Mapping[object, str | None]) -> np.ndarray:
    """Map an array of source codes (or names) to park class codes (uint8, 0 = no data).

    Parameters
    ----------
    values : ndarray
        Source class codes (integers) or names (strings).
    schema : str or mapping
        A key of :data:`SCHEMAS`, or a mapping source value → park class name (None = no data).

    Examples
    --------
    >>> map_classes(np.array([50, 40, 80, 10]), "worldcover").tolist()
    [1, 2, 4, 3]
    """
    if isinstance(schema, str):
        if schema not in SCHEMAS:
            raise ModelError(f"unknown class schema {schema!r}; known: {', '.join(SCHEMAS)}")
        table = SCHEMAS[schema]
    else:
        table = schema
    values = np.asarray(values)
    out = np.zeros(values.shape, dtype=np.uint8)
    if values.dtype.kind in "iu":
        for src, dst in table.items():
            if dst is not None and isinstance(src, (int, np.integer)):
                out[values == src] = CLASS_CODES[dst]
        return out
    for src in np.unique(values):
        dst = table.get(src, table.get(str(src)))
        if dst is None and str(src).strip().lower() in _NAME_ALIASES:
            dst = _NAME_ALIASES[str(src).strip().lower()]
        if dst is not None:
            out[values == src] = CLASS_CODES[dst]
    return out
