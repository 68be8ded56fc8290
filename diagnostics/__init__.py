"""parkscan.diagnostics: the screening (findings, indicators, ranking, report, batch, CLI).

Examples
--------
>>> from parkscan.diagnostics import screen, Screening, Finding  # doctest: +SKIP
>>> s = screen(park, enterprises="enterprises.csv", mobile=["run1.csv"])  # doctest: +SKIP
>>> s.write("out/park")  # doctest: +SKIP
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["screen", "Screening", "Finding", "DiagnosticResult", "register", "registered"]

if TYPE_CHECKING:  # pragma: no cover
    from .findings import Finding
    from .registry import DiagnosticResult, register, registered
    from .screening import Screening, screen

_LAZY = {"screen": "screening", "Screening": "screening", "Finding": "findings", "DiagnosticResult": "registry",
         "register": "registry", "registered": "registry"}


def __getattr__(name: str) -> Any:
    # imported lazily so that `parkscan --help` (which imports this package) stays instant
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
