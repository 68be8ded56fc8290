"""manifest.json: every input (path/URL, sha256, size, dates), software versions, parameters, run time."""
from __future__ import annotations

import os
import platform
import sys
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

from parkscan.aoi.digest import sha256_file, sha256_folder

from .registry import InputItem

__all__ = ["sha256_file", "input_item", "versions", "build_manifest", "strip_url", "PACKAGES"]

PACKAGES = ("parkscan", "numpy", "pandas", "shapely", "pyproj", "geopandas", "pyogrio", "rasterio", "xarray",
            "rioxarray", "scipy", "scikit-learn", "dask", "distributed", "folium", "matplotlib", "jinja2", "click")
"""Packages whose versions are recorded."""


def strip_url(uri: str) -> str:
    """A URL without credentials, fragment and secret query values (paths are returned unchanged).

    The masking is :func:`parkscan.sources.remote.credentials.redact_url`: the same list of secret
    parameters (``token``, ``sig``, ``map_key``, S3/Azure signatures, ...) and registered secrets.
    """
    from parkscan.sources.remote.credentials import redact_url

    parts = urlsplit(uri)
    if not parts.scheme or len(parts.scheme) == 1:  # a path (or a Windows drive letter)
        return uri
    return redact_url(urlunsplit(parts._replace(fragment="")))


def input_item(path: str | os.PathLike, *, kind: str, id: str | None = None, dates: Sequence[str] = (),
               extra: Mapping[str, Any] | None = None) -> InputItem:
    """An :class:`InputItem` for a local file or folder (checksum and size) or a URL (as given, secrets stripped)."""
    s = str(path)
    p = Path(s)
    if "://" in s and not p.exists():
        return InputItem(id=id or kind, uri=strip_url(s), kind=kind, dates=tuple(dates), extra=dict(extra or {}))
    sha = size = None
    if p.is_file():
        sha, size = sha256_file(p), p.stat().st_size
    elif p.is_dir():
        size, sha = sha256_folder(p)
    return InputItem(id=id or kind, uri=str(p.resolve()) if p.exists() else s, kind=kind, sha256=sha, size=size,
                     dates=tuple(dates), extra=dict(extra or {}))


def versions(packages: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``packages`` plus Python and the platform."""
    out: dict[str, str | None] = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _item_dict(it: InputItem) -> dict[str, Any]:
    d = asdict(it)
    d["uri"] = strip_url(d["uri"])
    d["dates"] = list(d["dates"])
    d["extra"] = {str(k): (v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v)) for k, v in d["extra"].items()}
    return d


def build_manifest(
    *,
    inputs: Sequence[InputItem],
    parameters: Mapping[str, Any],
    started: str,
    finished: str,
    seconds: float,
    outputs: Mapping[str, Path] | None = None,
) -> dict[str, Any]:
    """The manifest.json content.

    Inputs with the same id and uri are recorded once (several diagnostics may read the same
    file); outputs are listed with their sha256 and size.
    """
    seen: set[tuple[str, str]] = set()
    items = []
    for it in inputs:
        key = (it.id, it.uri)
        if key in seen:
            continue
        seen.add(key)
        items.append(_item_dict(it))
    outs = {}
    for name, p in sorted((outputs or {}).items()):
        p = Path(p)
        if p.is_file():
            outs[name] = {"sha256": sha256_file(p), "size": p.stat().st_size}
    return {
        "tool": "parkscan",
        "inputs": items,
        "software": versions(),
        "parameters": dict(parameters),
        "run": {"started": started, "finished": finished, "seconds": round(seconds, 3)},
        "outputs": outs,
    }
