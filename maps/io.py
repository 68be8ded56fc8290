"""Save map layers to a folder and load them back, so ``parkscan map SCREENING_DIR`` can re-render later.

Layout of the folder (one file set per layer, numbered in drawing order)::

    layers/
      index.json                      [{"file": "00_approved", "type": "vector"}, ...]
      00_approved.geojson             VectorLayer features (WGS-84)
      00_approved.json                VectorLayer metadata (name, kind, style, popup_fields, ...)
      03_track.npz                    TrackLayer lon/lat/values (compressed)
      03_track.json                   TrackLayer metadata
      05_change.png                   RasterLayer image (RGBA PNG)
      05_change.json                  RasterLayer metadata incl. bounds

Examples
--------
>>> import tempfile
>>> from parkscan.maps import VectorLayer
>>> fc = {"type": "FeatureCollection", "features": []}
>>> d = tempfile.mkdtemp()
>>> _ = save_layers([VectorLayer("Approved", fc, kind="approved")], d)
>>> [l.name for l in load_layers(d)]
['Approved']
"""
from __future__ import annotations

import io
import json
import logging
import os
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from parkscan.aoi.atomic import atomic_path, write_bytes, write_text
from parkscan.aoi.errors import ParkscanError

from ._html import _default
from .layers import Layer, RasterLayer, TrackLayer, VectorLayer

__all__ = ["save_layers", "load_layers", "LayersIOError"]

log = logging.getLogger(__name__)
INDEX = "index.json"
FORMAT_VERSION = 1


class LayersIOError(ParkscanError, OSError):
    """A layers folder is missing, incomplete or unreadable."""


def _slug(name: str) -> str:
    s = re.sub(r"[^0-9A-Za-z_-]+", "_", name).strip("_").lower()
    return s[:40] or "layer"


def _png_bytes(img: np.ndarray) -> bytes:
    import matplotlib.image as mpimg

    buf = io.BytesIO()
    mpimg.imsave(buf, np.ascontiguousarray(img), format="png")
    return buf.getvalue()


def save_layers(layers: Sequence[Layer], directory: str | os.PathLike) -> Path:
    """Write ``layers`` into ``directory`` (created if missing); returns the path of ``index.json``.

    Every file is written atomically; ``index.json`` last, so a half-written folder is never read as complete.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    index: list[dict[str, Any]] = []
    for i, lyr in enumerate(layers):
        stem = f"{i:02d}_{_slug(getattr(lyr, 'kind', '') or lyr.name) if isinstance(lyr, VectorLayer) else _slug(lyr.name)}"
        if isinstance(lyr, VectorLayer):
            meta = {"type": "vector", "name": lyr.name, "kind": lyr.kind, "style": dict(lyr.style),
                    "popup_fields": [list(p) for p in lyr.popup_fields], "color_by": lyr.color_by,
                    "show": lyr.show, "legend": dict(lyr.legend)}
            write_text(d / f"{stem}.geojson", json.dumps(lyr.features, ensure_ascii=False, default=_default))
        elif isinstance(lyr, TrackLayer):
            meta = {"type": "track", "name": lyr.name, "unit": lyr.unit, "pollutant": lyr.pollutant, "show": lyr.show}
            with atomic_path(d / f"{stem}.npz", suffix=".npz") as tmp:
                with open(tmp, "wb") as fh:
                    np.savez_compressed(fh, lon=np.asarray(lyr.lon, float), lat=np.asarray(lyr.lat, float),
                                        values=np.asarray(lyr.values, float))
        elif isinstance(lyr, RasterLayer):
            img = np.asarray(lyr.image)
            if img.ndim != 3 or img.shape[2] not in (3, 4):
                raise LayersIOError(f"RasterLayer {lyr.name!r}: image must be (height, width, 3|4) uint8, got shape {img.shape}")
            meta = {"type": "raster", "name": lyr.name, "bounds": [list(map(float, b)) for b in lyr.bounds],
                    "opacity": lyr.opacity, "legend": dict(lyr.legend), "time": lyr.time, "show": lyr.show,
                    "group": lyr.group}
            write_bytes(d / f"{stem}.png", _png_bytes(img.astype(np.uint8)))
        else:
            raise TypeError(f"not a map layer: {type(lyr).__name__}")
        write_text(d / f"{stem}.json", json.dumps(meta, ensure_ascii=False, indent=1, default=_default))
        index.append({"file": stem, "type": meta["type"]})
    return write_text(d / INDEX, json.dumps({"format": FORMAT_VERSION, "layers": index}, indent=1))


def _read_json(p: Path) -> Any:
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise LayersIOError(f"{p} is missing; re-run the screening to rewrite its layers folder") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise LayersIOError(f"{p} is not valid JSON ({err}); re-run the screening") from err


def load_layers(directory: str | os.PathLike) -> list[Layer]:
    """Read the layers written by :func:`save_layers`, in drawing order."""
    d = Path(directory)
    if not (d / INDEX).exists():
        raise LayersIOError(f"{d} holds no map layers ({INDEX} missing); point at a screening output folder's 'layers'")
    index = _read_json(d / INDEX)
    items = index.get("layers") if isinstance(index, dict) else None
    if not isinstance(items, list):
        raise LayersIOError(f"{d / INDEX}: no 'layers' list; re-run the screening to rewrite its layers folder")
    out: list[Layer] = []
    for n, item in enumerate(items):
        stem = item.get("file") if isinstance(item, dict) else None
        if not isinstance(stem, str) or not stem or stem in (".", "..") or any(c in stem for c in "/\\\0"):
            raise LayersIOError(f"{d / INDEX}: layer {n} has no plain 'file' name ({stem!r}); layer files must sit in {d}")
        try:
            out.append(_load_layer(d, stem))
        except (KeyError, TypeError, ValueError) as err:
            raise LayersIOError(f"{d / (stem + '.json')}: missing or malformed field ({type(err).__name__}: {err}); "
                                "re-run the screening") from err
    return out


def _load_layer(d: Path, stem: str) -> Layer:
    """One layer of a layers folder (``stem``.json plus its data file)."""
    meta = _read_json(d / f"{stem}.json")
    if not isinstance(meta, dict):
        raise LayersIOError(f"{d / (stem + '.json')}: not a layer description (a JSON object)")
    kind = meta.get("type")
    if kind == "vector":
        return VectorLayer(
            name=meta["name"], features=_read_json(d / f"{stem}.geojson"), kind=meta.get("kind", "generic"),
            style=meta.get("style") or {}, popup_fields=tuple(tuple(p) for p in meta.get("popup_fields", [])),
            color_by=meta.get("color_by"), show=meta.get("show", True), legend=meta.get("legend") or {},
        )
    if kind == "track":
        try:
            with np.load(d / f"{stem}.npz") as z:
                lon, lat, values = z["lon"], z["lat"], z["values"]
        except (OSError, KeyError, ValueError) as err:
            raise LayersIOError(f"{d / (stem + '.npz')} is unreadable ({err}); re-run the screening") from err
        return TrackLayer(meta["name"], lon, lat, values, unit=meta.get("unit", ""),
                          pollutant=meta.get("pollutant", ""), show=meta.get("show", True))
    if kind == "raster":
        import matplotlib.image as mpimg

        try:
            img = mpimg.imread(d / f"{stem}.png", format="png")
        except (OSError, ValueError, SyntaxError) as err:
            raise LayersIOError(f"{d / (stem + '.png')} is unreadable ({err}); re-run the screening") from err
        img = (np.clip(img, 0, 1) * 255).round().astype(np.uint8) if img.dtype != np.uint8 else img
        if img.shape[2] == 3:
            img = np.dstack([img, np.full(img.shape[:2], 255, np.uint8)])
        (s, w), (n, e) = meta["bounds"]
        return RasterLayer(meta["name"], img, ((s, w), (n, e)), opacity=meta.get("opacity", 0.7),
                           legend=meta.get("legend") or {}, time=meta.get("time"), show=meta.get("show", False),
                           group=meta.get("group"))
    raise LayersIOError(f"{d / (stem + '.json')}: unknown layer type {kind!r}")
