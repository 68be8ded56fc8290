"""The screening: run every diagnostic that has its data, rank, and write the outputs.

:func:`screen` is what ``parkscan screen`` and ``parkscan demo`` (and ``parkscan batch``, per
park) call; :meth:`Screening.write` writes OUT/ (report.html, map.html, findings.geojson,
site_visits.csv, summary.json, manifest.json, ranking.csv, map.png, layers/, per-diagnostic
tables), every file atomically.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from parkscan.aoi.errors import DiagnosticsError, ParkscanError

from .findings import Finding
from .indicators import counts_by_kind, coverage_table, indicator_sheet
from .manifest import input_item
from .ranking import RankedItem, Weights, load_weights, rank
from .registry import DiagnosticResult, InputItem, ScreenContext, registered
from .sitevisits import site_visits

__all__ = ["Screening", "screen", "INPUT_NAMES", "AUXILIARY_INPUTS"]

log = logging.getLogger(__name__)

INPUT_NAMES = ("enterprises", "mobile", "mobile_datum", "imagery", "before", "after", "no2", "so2", "thermal", "fires",
               "wind", "reference")
"""The ``screen()`` input keywords."""

AUXILIARY_INPUTS = frozenset({"mobile_datum", "before", "after", "wind", "reference"})
"""Inputs that qualify others: a diagnostic does not run on these alone."""

_FLAGS = {"enterprises": "--enterprises", "mobile": "--mobile", "imagery": "--imagery", "no2": "--no2", "so2": "--so2",
          "thermal": "--thermal", "fires": "--fires", "reference": "--reference", "wind": "--wind-from/--wind-speed",
          "before": "--before", "after": "--after"}


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class Screening:
    """A park's screening: findings, indicators, ranking, site visits, coverage and provenance.

    It is what the report and map render; :meth:`write` writes all outputs.
    """

    park: Any
    """The :class:`~parkscan.aoi.Park` (with its enterprises attached)."""
    findings: list[Finding]
    """All findings, strongest (severity × confidence) first."""
    indicators: dict[str, dict[str, Any]]
    """The indicator sheet (see :mod:`parkscan.diagnostics.indicators`)."""
    ranking: list[RankedItem]
    """Every enterprise and every zone with evidence, best first."""
    site_visits: pd.DataFrame
    """The site-visit list (columns :data:`parkscan.diagnostics.sitevisits.COLUMNS`)."""
    route: dict[str, Any]
    """Suggested route: ``start`` (lon, lat), ``order`` (ids), ``length_m``."""
    coverage: dict[str, dict[str, Any]]
    """Diagnostic name → coverage (``status``: ok | partial | not_provided | failed, ``detail``, ...)."""
    results: dict[str, DiagnosticResult] = field(default_factory=dict)
    """Results of the diagnostics that ran."""
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    """Diagnostic name → display name (en, zh)."""
    inputs: list[InputItem] = field(default_factory=list)
    """Every input read (for manifest.json)."""
    params: dict[str, Any] = field(default_factory=dict)
    """Parameters of the run (for manifest.json)."""
    weights: Weights | None = None
    """Ranking weights used."""
    lang: str = "en"
    """Report language."""
    seed: int = 0
    """Seed given to the diagnostics."""
    started: str = ""
    """UTC start time (ISO 8601)."""
    seconds: float = 0.0
    """Wall time of :func:`screen`."""

    @property
    def status(self) -> dict[str, str]:
        """Diagnostic name → coverage status."""
        return {k: str(v.get("status", "ok")) for k, v in self.coverage.items()}

    @property
    def methods(self) -> dict[str, dict[str, str]]:
        """Diagnostic name → methods paragraph (en, zh)."""
        return {n: dict(r.methods) for n, r in self.results.items() if r.methods}

    @property
    def limitations(self) -> list[dict[str, str]]:
        """All limitations (en, zh), including the data that were not provided or failed."""
        out: list[dict[str, str]] = []
        for name, cov in self.coverage.items():
            lab = self.labels.get(name, {"en": name, "zh": name})
            if cov.get("status") == "not_provided":
                out.append({"en": f"{lab['en']}: not assessed — {cov.get('detail', 'no input data')}. No finding here does not mean no problem.",
                            "zh": f"{lab['zh']}：未评估——未提供所需数据（{', '.join(cov.get('inputs', []))}）。没有发现不代表没有问题。"})
            elif cov.get("status") == "failed":
                out.append({"en": f"{lab['en']}: failed — {cov.get('detail', '')}", "zh": f"{lab['zh']}：运行失败——{cov.get('detail', '')}"})
        for r in self.results.values():
            out.extend(dict(x) for x in r.limitations)
        for key in self.params.get("unused_inputs", []):
            out.append({"en": f"Input {key} was given but no installed diagnostic reads it.", "zh": f"提供了输入 {key}，但没有已安装的诊断使用它。"})
        return out

    @property
    def attributions(self) -> list[str]:
        """Data attributions required by the data used (deduplicated, in order)."""
        seen: dict[str, None] = {}
        for r in self.results.values():
            for a in r.attributions:
                seen.setdefault(str(a), None)
        return list(seen)

    @property
    def layers(self) -> list[Any]:
        """Layers contributed by the diagnostics (the base layers come from :mod:`.maplayers`)."""
        return [lay for r in self.results.values() for lay in r.layers]

    @property
    def tables(self) -> dict[str, Any]:
        """Per-diagnostic tables by output name (prefixed with the diagnostic on a name clash)."""
        out: dict[str, Any] = {}
        for diag, r in self.results.items():
            for name, tab in r.tables.items():
                key = str(name)
                if key in out or key in ("site_visits", "ranking"):
                    key = f"{diag}_{key}"
                out[key] = tab
        return out

    @property
    def park_level(self) -> list[Finding]:
        """Findings describing the park as a whole (coarse NO₂/SO₂, very large areas): not in the ranking."""
        from .ranking import park_level

        return park_level(self.park, self.findings, self.weights or load_weights())

    def counts(self) -> dict[str, int]:
        """Number of findings per kind."""
        return counts_by_kind(self.findings)

    def summary(self) -> dict[str, Any]:
        """The content of summary.json."""
        from .manifest import versions

        areas = self.park.area_ha()
        n_ent = 0 if self.park.enterprises is None else len(self.park.enterprises)
        return {
            "park": {"id": self.park.id, "name": self.park.name, "areas_ha": {k: None if v is None else round(v, 2) for k, v in areas.items()},
                     "subparks": [s.name for s in self.park.subparks], "enterprises": n_ent,
                     "approximate": bool(self.park.metadata.get("approximate", False))},
            "lang": self.lang,
            "indicators": self.indicators,
            "counts_by_kind": self.counts(),
            "n_findings": len(self.findings),
            "park_level_findings": [{"id": f.id, "kind": f.kind, "score": round(f.score, 4), "explain": dict(f.explain)}
                                    for f in self.park_level],
            "site_visits": json.loads(self.site_visits.to_json(orient="records", force_ascii=False)),
            "route": self.route,
            "ranking": [it.as_dict(self.lang) for it in self.ranking],
            "coverage": coverage_table(self.coverage, self.labels),
            "diagnostics": self.status,
            "attributions": self.attributions,
            "limitations": self.limitations,
            "weights": self.weights.as_dict() if self.weights else None,
            "versions": versions(),
            "run": {"started": self.started, "seconds": round(self.seconds, 3), "seed": self.seed},
        }

    def findings_geojson(self) -> dict[str, Any]:
        """findings.geojson: a FeatureCollection (WGS-84), properties = the Finding fields plus label and score."""
        feats = []
        for f in self.findings:
            feat = f.to_feature()
            feat["properties"]["label_en"] = f.label("en")
            feat["properties"]["label_zh"] = f.label("zh")
            feat["properties"]["score"] = round(f.score, 4)
            feats.append(feat)
        return {"type": "FeatureCollection", "name": "findings", "features": feats}

    def write(self, out_dir: str | os.PathLike, *, lang: str | None = None, basemap: str = "none") -> dict[str, Path]:
        """Write all outputs into ``out_dir`` (created if missing), each file atomically.

        Parameters
        ----------
        out_dir : path
            Output folder.
        lang : str, optional
            Language of report and map (default: the screening's).
        basemap : str
            Background tiles of map.html (``none`` keeps it fully offline; the map embedded in
            report.html never has tiles).

        Returns
        -------
        dict
            Output name → path.
        """
        from .writer import write_outputs

        return write_outputs(self, Path(out_dir), lang=lang or self.lang, basemap=basemap)


def _no_id(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return v != v
    return isinstance(v, str) and v.strip().lower() in ("", "nan", "none", "null")


def _given(v: Any) -> bool:
    if v is None:
        return False
    if isinstance(v, (list, tuple, set, dict, str)) and len(v) == 0:
        return False
    return True


def _attach_enterprises(park, enterprises, datum: str, inputs: list[InputItem]):
    if enterprises is None:
        return park
    if isinstance(enterprises, (str, os.PathLike)):
        from parkscan.aoi import read_enterprises

        inputs.append(input_item(enterprises, kind="enterprises", id="enterprises"))
        enterprises = read_enterprises(enterprises, datum=datum)
    return park.with_enterprises(enterprises)


def _boundary_input(park) -> InputItem | None:
    md = park.metadata if hasattr(park.metadata, "get") else {}
    src = md.get("source") or md.get("path") or md.get("file")
    if not src:
        return None
    p = Path(str(src))
    return input_item(p, kind="boundary", id="boundary") if p.exists() else InputItem(id="boundary", uri=str(src), kind="boundary")


def screen(
    park,
    *,
    enterprises=None,
    mobile: Sequence[str | os.PathLike] | None = None,
    mobile_datum: str = "wgs84",
    imagery: str | os.PathLike | None = None,
    before: str | None = None,
    after: str | None = None,
    no2: Sequence[str | os.PathLike] | None = None,
    so2: Sequence[str | os.PathLike] | None = None,
    thermal: str | os.PathLike | None = None,
    fires: str | os.PathLike | None = None,
    wind: Mapping[str, float] | None = None,
    reference: str | os.PathLike | None = None,
    lang: str = "en",
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Screening:
    """Screen a park with whatever data are given.

    Runs every registered diagnostic whose inputs were given (and those that need none); the
    others are recorded in the data coverage as ``not_provided`` — never as "no problem". A
    diagnostic raising :class:`~parkscan.aoi.errors.ParkscanError` is recorded as ``failed``
    with its message and the screening goes on; any other exception is a bug and propagates.

    Parameters
    ----------
    park : parkscan.aoi.Park
        The park (``parkscan.aoi.read_park``).
    enterprises : path or GeoDataFrame, optional
        Enterprise list (CSV/XLSX/GeoJSON, read with ``parkscan.aoi.read_enterprises``) or a
        ready table; replaces ``park.enterprises``.
    mobile, mobile_datum, imagery, before, after, no2, so2, thermal, fires, wind, reference
        Data for the diagnostics (see DESIGN.md); lists of paths for mobile/no2/so2.
    lang : {"en", "zh"}
        Language of reasons and report.
    seed : int
        Seed for anything random (deterministic results for the same seed).
    params : mapping, optional
        Extra parameters: ``weights`` (path of a weights TOML), ``datum`` (of the enterprise
        list), ``start`` ((lon, lat) of the site-visit route), per-diagnostic dicts by name.
    progress : callable, optional
        ``progress(message, fraction_done)``.

    Returns
    -------
    Screening

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from parkscan.aoi import Park
    >>> s = screen(Park(id="p1", name="Demo", approved=box(120.60, 31.30, 120.63, 31.33)))
    >>> s.coverage["boundary"]["status"], len(s.findings)
    ('partial', 0)
    """
    if lang not in ("en", "zh"):
        raise DiagnosticsError(f"lang must be 'en' or 'zh', got {lang!r}")
    t0 = time.perf_counter()
    started = _now()
    params = dict(params or {})
    report = progress or (lambda msg, frac: None)
    given_all = {"enterprises": enterprises, "mobile": list(mobile) if isinstance(mobile, (list, tuple)) else mobile,
                 "mobile_datum": mobile_datum, "imagery": imagery, "before": before, "after": after,
                 "no2": no2, "so2": so2, "thermal": thermal, "fires": fires, "wind": wind, "reference": reference}
    for key in ("mobile", "no2", "so2"):
        if isinstance(given_all[key], (str, os.PathLike)):
            given_all[key] = [given_all[key]]
    provided = {k: v for k, v in given_all.items() if _given(v)}
    inputs: list[InputItem] = []
    b = _boundary_input(park)
    if b is not None:
        inputs.append(b)
    report("reading enterprises", 0.0)
    park = _attach_enterprises(park, enterprises, str(params.get("datum", "wgs84")), inputs)

    specs = registered()
    results: dict[str, DiagnosticResult] = {}
    coverage: dict[str, dict[str, Any]] = {}
    labels: dict[str, dict[str, str]] = {}
    consumed: set[str] = {"enterprises", "mobile_datum"}
    for i, spec in enumerate(specs):
        labels[spec.name] = {"en": spec.label.get("en", spec.name), "zh": spec.label.get("zh", spec.label.get("en", spec.name))}
        consumed.update(spec.inputs)
        primary = [k for k in spec.inputs if k not in AUXILIARY_INPUTS]
        if spec.inputs and primary and not any(k in provided for k in primary):
            flags = ", ".join(_FLAGS.get(k, k) for k in primary)
            coverage[spec.name] = {"status": "not_provided", "inputs": primary, "detail": f"not provided: {flags}",
                                   "detail_zh": f"未提供：{flags}"}
            continue
        lo, hi = i / len(specs), (i + 1) / len(specs)

        def sub(msg: str, frac: float, _n=spec.name, _lo=lo, _hi=hi) -> None:
            report(f"{_n}: {msg}", _lo + (_hi - _lo) * min(max(float(frac), 0.0), 1.0))

        ctx = ScreenContext(lang=lang, seed=seed, params=params, progress=sub)
        kwargs = {k: given_all.get(k) for k in spec.inputs}
        report(f"{spec.name}", lo)
        t1 = time.perf_counter()
        try:
            res = spec.func(park, ctx, **kwargs)
        except ParkscanError as err:
            msg = " ".join(str(err).split())
            log.warning("diagnostic %s failed: %s", spec.name, msg)
            coverage[spec.name] = {"status": "failed", "inputs": [k for k in spec.inputs if k in provided], "detail": msg,
                                   "error_type": type(err).__name__}
            continue
        if not isinstance(res, DiagnosticResult):
            raise TypeError(f"diagnostic {spec.name} returned {type(res).__name__}, not a DiagnosticResult")
        cov = dict(res.coverage or {})
        cov.setdefault("status", "ok")
        cov.setdefault("inputs", [k for k in spec.inputs if k in provided])
        cov["seconds"] = round(time.perf_counter() - t1, 3)
        coverage[spec.name] = cov
        results[spec.name] = res
        inputs.extend(res.inputs)
    unused = sorted(k for k in provided if k not in consumed)
    if unused:
        log.warning("inputs given but read by no installed diagnostic: %s", ", ".join(unused))

    # findings: unique ids, strongest first, ties by id (deterministic)
    findings: list[Finding] = []
    seen: dict[str, int] = {}
    for res in results.values():
        for f in res.findings:
            if _no_id(f.enterprise_id):  # NaN / "" / "nan" from a table: not attributed
                f = Finding(**{**f.__dict__, "enterprise_id": None})
            elif not isinstance(f.enterprise_id, str):
                f = Finding(**{**f.__dict__, "enterprise_id": str(f.enterprise_id)})
            if f.id in seen:
                seen[f.id] += 1
                log.warning("duplicate finding id %s from %s; keeping both", f.id, res.name)
                f = Finding(**{**f.__dict__, "id": f"{f.id}-{seen[f.id]}"})
            else:
                seen[f.id] = 0
            findings.append(f)
    findings.sort(key=lambda f: (-round(f.score, 9), f.kind, f.id))

    report("ranking", 0.97)
    weights = load_weights(params.get("weights"))
    status = {k: str(v.get("status")) for k, v in coverage.items()}
    ranking = rank(park, findings, status=status, weights=weights)
    visits, route = site_visits(park, ranking, weights=weights, lang=lang, start=params.get("start"))
    sheet = indicator_sheet(results, status, findings, provided=sorted(provided))
    run_params = {"lang": lang, "seed": seed, "given": sorted(provided), "unused_inputs": unused,
                  "mobile_datum": mobile_datum, "before": before, "after": after, "wind": dict(wind) if wind else None,
                  **{k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in params.items()}}
    report("done", 1.0)
    return Screening(park=park, findings=findings, indicators=sheet, ranking=ranking, site_visits=visits, route=route,
                     coverage=coverage, results=results, labels=labels, inputs=inputs, params=run_params, weights=weights,
                     lang=lang, seed=seed, started=started, seconds=time.perf_counter() - t0)
