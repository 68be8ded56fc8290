"""parkscan: rapid screening of industrial parks from satellites and mobile (走航) monitoring.

Subpackages: :mod:`parkscan.aoi` (the park), :mod:`parkscan.sources` (observations),
:mod:`parkscan.models` (ML and statistics), :mod:`parkscan.diagnostics` (the screening, report,
batch and CLI), :mod:`parkscan.maps` (interactive and static maps).
"""
from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("parkscan")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

logging.getLogger("parkscan").addHandler(logging.NullHandler())

__all__ = ["__version__"]
