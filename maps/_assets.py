"""Offline web assets (Leaflet and plugins, shipped as package data) inlined into one HTML file.

Every ``url(...)`` in a stylesheet that points at a file next to it becomes a ``data:`` URI, so the
page never asks for another file — not from a CDN, not from disk.
"""
from __future__ import annotations

import base64
import functools
import logging
import mimetypes
import re
from importlib import resources
from typing import Iterable

__all__ = ["ASSET_SETS", "asset_text", "inline_css", "inline_js", "inline_block", "versions"]

log = logging.getLogger(__name__)

#: name → (css files, js files), paths relative to ``parkscan/maps/assets``; order matters.
ASSET_SETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "leaflet": (("leaflet/leaflet.css",), ("leaflet/leaflet.js",)),
    "fullscreen": (("leaflet.fullscreen/Control.FullScreen.css",), ("leaflet.fullscreen/Control.FullScreen.js",)),
    "measure": (("leaflet-measure/leaflet-measure.css",), ("leaflet-measure/leaflet-measure.js",)),
    "measure_zh": (("leaflet-measure/leaflet-measure.css",), ("leaflet-measure/leaflet-measure.cn.js",)),
    "parkscan": (("parkscan.css",), ("parkscan.js",)),
}

_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


def _root():
    return resources.files("parkscan.maps").joinpath("assets")


@functools.lru_cache(maxsize=None)
def asset_bytes(rel: str) -> bytes:
    """Bytes of one packaged asset (``rel`` relative to the assets folder)."""
    node = _root()
    for part in rel.split("/"):
        node = node.joinpath(part)
    return node.read_bytes()


def asset_text(rel: str) -> str:
    """Text of one packaged asset."""
    return asset_bytes(rel).decode("utf-8")


def _data_uri(rel: str) -> str | None:
    try:
        data = asset_bytes(rel)
    except (FileNotFoundError, IsADirectoryError):
        return None
    mime = mimetypes.guess_type(rel)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@functools.lru_cache(maxsize=None)
def inline_css(rel: str) -> str:
    """A stylesheet with its relative ``url()`` references turned into data URIs.

    References to files that are not shipped (e.g. Leaflet's default marker icon, which parkscan
    never uses) become ``none`` so the browser makes no request for them.
    """
    base = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
    css = asset_text(rel)

    def repl(m: re.Match) -> str:
        target = m.group(2).strip()
        if target.startswith(("data:", "#")):
            return m.group(0)
        if re.match(r"^[a-z]+:", target) or target.startswith("//"):
            log.warning("stylesheet %s refers to a remote resource %s; dropped", rel, target)
            return "none"
        uri = _data_uri(_normalise(base + target))
        return f'url("{uri}")' if uri else "none"

    return _URL.sub(repl, css)


def _normalise(path: str) -> str:
    out: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if out:
                out.pop()
        elif part and part != ".":
            out.append(part)
    return "/".join(out)


def inline_js(rel: str) -> str:
    """A script's text, safe to put inside ``<script>`` (``</script`` cannot occur)."""
    return asset_text(rel).replace("</script", "<\\/script")


def inline_block(sets: Iterable[str]) -> str:
    """``<style>`` and ``<script>`` elements holding the given asset sets, in order."""
    css: list[str] = []
    js: list[str] = []
    seen: set[str] = set()
    for name in sets:
        cfiles, jfiles = ASSET_SETS[name]
        for f in cfiles:
            if f not in seen:
                seen.add(f)
                css.append(f"<style>/* {f} */\n{inline_css(f)}\n</style>")
        for f in jfiles:
            if f not in seen:
                seen.add(f)
                js.append(f"<script>/* {f} */\n{inline_js(f)}\n</script>")
    if "leaflet" in sets:  # default marker icons as data URIs (plugins such as leaflet-measure create markers)
        icons = {k: _data_uri(f"leaflet/images/{f}") for k, f in (
            ("iconUrl", "marker-icon.png"), ("iconRetinaUrl", "marker-icon-2x.png"), ("shadowUrl", "marker-shadow.png"))}
        opts = ",".join(f'{k}:"{v}"' for k, v in icons.items() if v)
        js.insert(1, f"<script>L.Icon.Default.imagePath='';L.Icon.Default.mergeOptions({{{opts}}});</script>")
    return "\n".join(css + js)


def versions() -> dict[str, str]:
    """Package → version of the shipped web assets (from ``assets/VERSIONS``)."""
    out: dict[str, str] = {}
    for line in asset_text("VERSIONS").splitlines():
        if line.strip() and not line.startswith("#"):
            parts = line.split()
            out[parts[0]] = parts[1]
    return out
