"""How diagnostics plug into the screening.

A diagnostic is a function ``func(park, ctx, **inputs) -> DiagnosticResult`` registered under a
name with the ``screen()`` keyword arguments it consumes. :func:`parkscan.diagnostics.screen`
runs every registered diagnostic whose inputs were given (and those that need none), and
records the others as "not provided" in the data coverage — absent data is never reported
as "no problem".

Built-in diagnostics live in ``parkscan.diagnostics.<name>`` modules listed in :data:`BUILTIN`;
third-party ones register through the entry-point group ``parkscan.diagnostics``.
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .findings import Finding

__all__ = ["DiagnosticResult", "DiagnosticSpec", "InputItem", "ScreenContext", "register", "registered", "BUILTIN"]

log = logging.getLogger(__name__)

#: modules under parkscan.diagnostics that register built-in diagnostics when imported
BUILTIN = ("boundary", "mobile", "landcover", "satellite")


@dataclass(frozen=True)
class InputItem:
    """One input as recorded in manifest.json."""

    id: str
    """Dataset id that findings cite in ``Finding.sources``."""
    uri: str
    """Local path or URL (credentials and tokens stripped)."""
    kind: str
    """``boundary``, ``enterprises``, ``mobile``, ``imagery``, ``no2``, ``thermal``, ``fires``, ``reference``, ..."""
    sha256: str | None = None
    """Checksum of the file or download, when there is one."""
    size: int | None = None
    """Bytes."""
    dates: tuple[str, ...] = ()
    """ISO dates (or date ranges) the data cover."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Anything else worth recording (cloud cover, product id, rows flagged, ...)."""


@dataclass(frozen=True)
class ScreenContext:
    """What every diagnostic gets besides the park and its inputs."""

    lang: str = "en"
    """Report language, ``en`` or ``zh``."""
    seed: int = 0
    """Seed for anything random (CV splits, sampling)."""
    work_dir: Path | None = None
    """A scratch folder for intermediate files, or None."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """Extra parameters from the CLI or the caller (e.g. wind, thresholds)."""
    progress: Callable[[str, float], None] | None = None
    """Optional callback ``(message, fraction_done)``."""

    def report(self, message: str, fraction: float = 0.0) -> None:
        """Tell the user where we are (no-op without a progress callback)."""
        if self.progress is not None:
            self.progress(message, fraction)
        log.info("%s", message)


@dataclass
class DiagnosticResult:
    """What a diagnostic returns to the screening."""

    name: str
    """The diagnostic's registered name."""
    findings: list[Finding] = field(default_factory=list)
    """Findings, each with evidence."""
    indicators: dict[str, Any] = field(default_factory=dict)
    """Indicator-sheet entries (numbers with units; None means not measured)."""
    layers: list[Any] = field(default_factory=list)
    """Map layers (:mod:`parkscan.maps.layers`) for map.html and the report."""
    inputs: list[InputItem] = field(default_factory=list)
    """Inputs read, for manifest.json."""
    coverage: dict[str, Any] = field(default_factory=dict)
    """Data coverage: ``status`` (ok | partial | missing | failed), ``dates``, ``cloud``, ``detail``."""
    methods: dict[str, str] = field(default_factory=dict)
    """A methods paragraph, ``en`` and ``zh``."""
    limitations: list[dict[str, str]] = field(default_factory=list)
    """Limitations, each ``{"en": ..., "zh": ...}``."""
    attributions: list[str] = field(default_factory=list)
    """Data attributions required by the data used (e.g. 'Contains modified Copernicus Sentinel data 2024')."""
    tables: dict[str, Any] = field(default_factory=dict)
    """Extra tables (DataFrames) written as CSV next to the outputs, by name."""


@dataclass(frozen=True)
class DiagnosticSpec:
    """A registered diagnostic."""

    name: str
    """Unique name (``boundary``, ``mobile``, ``landcover``, ``satellite``, ...)."""
    func: Callable[..., DiagnosticResult]
    """``func(park, ctx, **inputs) -> DiagnosticResult``."""
    inputs: tuple[str, ...]
    """Names of the ``screen()`` keyword arguments it consumes; empty = always runs."""
    order: int = 100
    """Run order (lower first)."""
    label: Mapping[str, str] = field(default_factory=dict)
    """Display name, ``en`` and ``zh``."""


_REGISTRY: dict[str, DiagnosticSpec] = {}


def register(name: str, *, inputs: Sequence[str] = (), order: int = 100, label: Mapping[str, str] | None = None):
    """Decorator registering ``func(park, ctx, **inputs) -> DiagnosticResult`` under ``name``.

    Examples
    --------
    >>> @register("example", inputs=("example_file",))
    ... def run(park, ctx, *, example_file=None):
    ...     return DiagnosticResult(name="example")
    """

    def deco(func):
        _REGISTRY[name] = DiagnosticSpec(name=name, func=func, inputs=tuple(inputs), order=order, label=dict(label or {"en": name, "zh": name}))
        return func

    return deco


_LOADED = False


def _load_builtin() -> None:
    global _LOADED
    if _LOADED:
        return
    for mod in BUILTIN:  # all shipped: a missing one is a packaging bug and must not be skipped silently
        importlib.import_module(f"parkscan.diagnostics.{mod}")
    from importlib.metadata import entry_points

    for ep in entry_points(group="parkscan.diagnostics"):
        ep.load()
    _LOADED = True


def registered() -> list[DiagnosticSpec]:
    """All registered diagnostics in run order."""
    _load_builtin()
    return sorted(_REGISTRY.values(), key=lambda s: (s.order, s.name))
