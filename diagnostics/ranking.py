"""A transparent ranking of enterprises and grid zones from weighted evidence.

Every finding contributes ``c = weight[kind] × severity × confidence × attribution`` to the
enterprise (or grid zone) it is attributed to; contributions combine as independent pieces of
evidence, ``score = 1 − Π(1 − c)``. The weights and distances live in
``parkscan/diagnostics/data/weights.toml`` (documented there); pass another file with
``params={"weights": path}`` to :func:`parkscan.diagnostics.screen`.

Missing data are explicit: every ranked item lists the diagnostics that did not run
(``not_assessed``), and the confidence of a score is scaled by the share of the evidence
capacity that ran — a score of 0 from a screening without mobile or satellite data has a low
confidence, it is not "clean".
"""
from __future__ import annotations

import logging
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import shapely

from parkscan.aoi.errors import DiagnosticsError

from .findings import KINDS, Finding

__all__ = ["Weights", "Contribution", "RankedItem", "load_weights", "rank", "park_level", "coverage_share", "evidence_summary"]

log = logging.getLogger(__name__)

_RANKING_KEYS = {
    "attribution_distance_m": (float, 0.0, 50_000.0),
    "proximity_floor": (float, 0.0, 1.0),
    "zone_size_m": (float, 10.0, 50_000.0),
    "max_site_visits": (int, 1, 10_000),
    "min_visit_score": (float, 0.0, 1.0),
    "max_reasons": (int, 1, 100),
    "max_local_extent_m": (float, 10.0, 1e6),
}


@dataclass(frozen=True)
class Weights:
    """The ranking configuration (see ``data/weights.toml`` for the meaning of each value)."""

    kinds: Mapping[str, float]
    """Weight per finding kind, 0–1."""
    coverage: Mapping[str, float]
    """Share of the evidence capacity per diagnostic name (``default`` for unlisted ones)."""
    attribution_distance_m: float = 300.0
    """Radius of proximity attribution around an enterprise, metres."""
    proximity_floor: float = 0.5
    """Attribution factor at ``attribution_distance_m`` (linear from 1 at the enterprise)."""
    zone_size_m: float = 500.0
    """Side of the grid zones for findings not attributed to an enterprise, metres."""
    max_site_visits: int = 30
    """Longest site-visit list."""
    min_visit_score: float = 0.02
    """Items below this score are not proposed for a visit."""
    max_reasons: int = 4
    """Reasons listed per item."""
    max_local_extent_m: float = 1500.0
    """A finding wider than this (bounding-box diagonal, metres) is park-level."""
    park_level_kinds: tuple[str, ...] = ("no2_enhancement", "so2_enhancement")
    """Kinds that describe the whole park unless a diagnostic names an enterprise."""
    source: str = "builtin"
    """Where the weights came from (recorded in manifest.json)."""

    def kind_weight(self, kind: str) -> float:
        """Weight of a finding kind (unknown kinds weigh 0.3 and are logged)."""
        if kind not in self.kinds:
            log.info("no ranking weight for finding kind %r; using 0.3", kind)
            return 0.3
        return float(self.kinds[kind])

    def coverage_weight(self, diagnostic: str) -> float:
        """Evidence-capacity share of a diagnostic."""
        return float(self.coverage.get(diagnostic, self.coverage.get("default", 0.1)))

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for summary.json / manifest.json."""
        return {
            "source": self.source, "kinds": dict(self.kinds), "coverage": dict(self.coverage),
            "park_level_kinds": list(self.park_level_kinds), **{k: getattr(self, k) for k in _RANKING_KEYS},
        }

    def is_park_level(self, finding: Finding, local_geom=None) -> bool:
        """True when a finding (without a named enterprise) describes the park rather than one place."""
        if finding.kind in self.park_level_kinds:
            return True
        if local_geom is None or local_geom.is_empty:
            return False
        minx, miny, maxx, maxy = local_geom.bounds
        return math.hypot(maxx - minx, maxy - miny) > self.max_local_extent_m


def load_weights(path: str | Path | None = None) -> Weights:
    """Read and validate a weights TOML file (default: the built-in ``data/weights.toml``).

    Raises
    ------
    DiagnosticsError
        When the file cannot be read or a value is out of range (naming the key).

    Examples
    --------
    >>> w = load_weights()
    >>> w.kind_weight("mobile_hotspot")
    1.0
    """
    try:
        if path is None:
            text = resources.files("parkscan.diagnostics").joinpath("data/weights.toml").read_text(encoding="utf-8")
            source = "builtin:parkscan/diagnostics/data/weights.toml"
        else:
            text = Path(path).read_text(encoding="utf-8")
            source = str(path)
        cfg = tomllib.loads(text)
    except OSError as err:
        raise DiagnosticsError(f"cannot read ranking weights {path}: {err}") from err
    except tomllib.TOMLDecodeError as err:
        raise DiagnosticsError(f"ranking weights {path or 'weights.toml'} is not valid TOML: {err}") from err
    kinds = cfg.get("kinds", {})
    for k, v in kinds.items():
        if k not in KINDS:
            raise DiagnosticsError(f"{source}: [kinds] {k!r} is not a finding kind; known: {', '.join(sorted(KINDS))}")
        if not isinstance(v, (int, float)) or not 0.0 <= float(v) <= 1.0:
            raise DiagnosticsError(f"{source}: [kinds] {k} = {v!r} must be a number within 0–1")
    cov = cfg.get("coverage", {})
    for k, v in cov.items():
        if not isinstance(v, (int, float)) or float(v) < 0:
            raise DiagnosticsError(f"{source}: [coverage] {k} = {v!r} must be a number >= 0")
    opts: dict[str, Any] = {}
    for k, v in cfg.get("ranking", {}).items():
        if k == "park_level_kinds":
            if not isinstance(v, list) or any(x not in KINDS for x in v):
                raise DiagnosticsError(f"{source}: [ranking] park_level_kinds must be a list of finding kinds; known: {', '.join(sorted(KINDS))}")
            opts[k] = tuple(v)
            continue
        if k not in _RANKING_KEYS:
            raise DiagnosticsError(f"{source}: [ranking] {k!r} is not a ranking setting; known: {', '.join(_RANKING_KEYS)}")
        typ, lo, hi = _RANKING_KEYS[k]
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not lo <= v <= hi or (typ is int and int(v) != v):
            raise DiagnosticsError(f"{source}: [ranking] {k} = {v!r} must be a{'n integer' if typ is int else ' number'} within {lo}–{hi}")
        opts[k] = typ(v)
    return Weights(kinds={k: float(v) for k, v in kinds.items()}, coverage={k: float(v) for k, v in cov.items()},
                   source=source, **opts)


@dataclass(frozen=True)
class Contribution:
    """One finding's part in an item's score."""

    finding_id: str
    """The finding."""
    kind: str
    """Its kind."""
    value: float
    """``weight × severity × confidence × attribution``."""
    attribution: str
    """``named`` (Finding.enterprise_id), ``proximity`` or ``zone``."""
    distance_m: float
    """Distance between the enterprise and the finding (0 for named and zone)."""
    confidence: float
    """The finding's confidence."""


@dataclass(frozen=True)
class RankedItem:
    """An enterprise or grid zone with its score, confidence and reasons."""

    item_id: str
    """enterprise_id, or a zone id ``Zrr-cc`` (row, column of the zone grid)."""
    item_type: str
    """``enterprise`` or ``zone``."""
    name: str
    """Enterprise name, or a zone label."""
    industry: str | None
    """Industry of the enterprise (None for zones / unknown)."""
    lon: float
    """WGS-84 longitude to go to."""
    lat: float
    """WGS-84 latitude to go to."""
    score: float
    """``1 − Π(1 − c)`` over contributions, 0–1."""
    confidence: float
    """Confidence of the score, 0–1 (see module docstring)."""
    contributions: tuple[Contribution, ...] = ()
    """The evidence, largest first."""
    reasons: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Reasons per language (``en``, ``zh``)."""
    evidence: str = ""
    """Short summary of the evidence numbers."""
    not_assessed: tuple[str, ...] = ()
    """Diagnostics that did not run (their evidence is missing, not negative)."""
    rank: int = 0
    """1-based position in the ranking."""

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        """Plain dict for summary.json."""
        return {
            "rank": self.rank, "id": self.item_id, "type": self.item_type, "name": self.name, "industry": self.industry,
            "score": round(self.score, 4), "confidence": round(self.confidence, 4),
            "lon": round(self.lon, 7), "lat": round(self.lat, 7),
            "reasons": list(self.reasons.get(lang, ())), "evidence": self.evidence,
            "findings": [c.finding_id for c in self.contributions], "not_assessed": list(self.not_assessed),
        }


def coverage_share(status: Mapping[str, str], weights: Weights) -> float:
    """Share of the evidence capacity that ran: ok counts fully, partial half, the rest not at all."""
    total = sum(weights.coverage_weight(d) for d in status)
    if total <= 0:
        return 0.0
    got = sum(weights.coverage_weight(d) * {"ok": 1.0, "partial": 0.5}.get(s, 0.0) for d, s in status.items())
    return got / total


def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not math.isfinite(v):
            return "n/a"
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)[:40]


def evidence_summary(f: Finding, n: int = 3) -> str:
    """The first ``n`` scalar evidence values of a finding as ``key=value``."""
    parts = []
    for k, v in f.evidence.items():
        if isinstance(v, (str, int, float, np.integer, np.floating)) and not isinstance(v, bool):
            parts.append(f"{k}={_fmt(v)}")
        if len(parts) >= n:
            break
    return ", ".join(parts)


def _combine(contribs: Sequence[Contribution]) -> float:
    p = 1.0
    for c in contribs:
        p *= 1.0 - min(max(c.value, 0.0), 1.0)
    return 1.0 - p


def _reasons(contribs: Sequence[Contribution], by_id: Mapping[str, Finding], weights: Weights) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {"en": [], "zh": []}
    how = {"named": {"en": "", "zh": ""}, "proximity": {"en": " ({d:.0f} m away)", "zh": "（相距 {d:.0f} 米）"},
           "zone": {"en": "", "zh": ""}}
    for c in contribs[: weights.max_reasons]:
        f = by_id[c.finding_id]
        for lang in ("en", "zh"):
            text = f.explain.get(lang) or f.explain.get("en") or ""
            suffix = how[c.attribution][lang].format(d=c.distance_m)
            out[lang].append(f"{KINDS[f.kind][lang]}{suffix}: {text} (+{c.value:.2f})".replace(":  (", ": ("))
    extra = len(contribs) - weights.max_reasons
    if extra > 0:
        out["en"].append(f"… and {extra} more finding(s)")
        out["zh"].append(f"……另有 {extra} 条发现")
    return {k: tuple(v) for k, v in out.items()}


def _zone_grid(park, size: float):
    from parkscan.aoi.options import OPTIONS

    minx, miny, maxx, maxy = park.to_local(park.footprint).buffer(OPTIONS["ring_m"]).bounds
    return math.floor(minx / size) * size, math.ceil(maxy / size) * size


def park_level(park, findings: Sequence[Finding], weights: Weights) -> list[Finding]:
    """Findings that describe the park as a whole (not attributed to an enterprise or zone)."""
    out = []
    known = set() if park.enterprises is None else {str(x) for x in park.enterprises["enterprise_id"]}
    for f in findings:
        if f.enterprise_id is not None and str(f.enterprise_id) in known:
            continue
        if weights.is_park_level(f, None if f.geometry.is_empty else park.to_local(f.geometry)):
            out.append(f)
    return out


def rank(
    park,
    findings: Sequence[Finding],
    *,
    status: Mapping[str, str] | None = None,
    weights: Weights | None = None,
) -> list[RankedItem]:
    """Rank the park's enterprises and the grid zones holding unattributed findings.

    Parameters
    ----------
    park : parkscan.aoi.Park
        The park; ``park.enterprises`` may be None (then only zones are ranked).
    findings : sequence of Finding
        All findings of the screening.
    status : mapping, optional
        Diagnostic name → coverage status (``ok``, ``partial``, ``not_provided``, ``failed``);
        the diagnostics not ``ok`` are listed as ``not_assessed`` on every item.
    weights : Weights, optional
        Ranking configuration (default: :func:`load_weights`).

    Returns
    -------
    list of RankedItem
        Every enterprise (score 0 when no evidence) and every zone with evidence, best first;
        ties broken by confidence, then enterprises before zones, then id.
    """
    weights = weights or load_weights()
    status = dict(status or {})
    share = coverage_share(status, weights) if status else 1.0
    not_assessed = tuple(sorted(d for d, s in status.items() if s in ("not_provided", "failed")))
    by_id = {f.id: f for f in findings}
    ent = park.enterprises
    has_ent = ent is not None and len(ent) > 0
    contribs: dict[tuple[str, str], list[Contribution]] = {}
    zone_points: dict[str, list[tuple[float, float, float]]] = {}

    if has_ent:
        ent_ids = [str(x) for x in ent["enterprise_id"]]
        ex, ey = park.lonlat_to_xy(ent["lon"].to_numpy(float), ent["lat"].to_numpy(float))
        ent_pts = shapely.points(ex, ey)
        known = set(ent_ids)
    else:
        ent_ids, ent_pts, known = [], None, set()
    gx0, gy0 = _zone_grid(park, weights.zone_size_m)

    for f in sorted(findings, key=lambda f: f.id):
        base = weights.kind_weight(f.kind) * float(f.severity) * float(f.confidence)
        local = park.to_local(f.geometry) if not f.geometry.is_empty else None
        if f.enterprise_id is not None and str(f.enterprise_id) in known:
            c = Contribution(f.id, f.kind, base, "named", 0.0, float(f.confidence))
            contribs.setdefault(("enterprise", str(f.enterprise_id)), []).append(c)
            continue
        if weights.is_park_level(f, local):
            continue  # describes the park as a whole: see park_level()
        if has_ent and local is not None and weights.attribution_distance_m > 0:
            d = shapely.distance(ent_pts, local)
            near = np.flatnonzero(d <= d.min() + 1.0)  # ties (e.g. several enterprises inside a polygon): closest to its centre
            i = int(near[np.argmin(shapely.distance(ent_pts[near], local.centroid))]) if len(near) > 1 else int(np.argmin(d))
            if d[i] <= weights.attribution_distance_m:
                att = 1.0 - (1.0 - weights.proximity_floor) * float(d[i]) / weights.attribution_distance_m
                c = Contribution(f.id, f.kind, base * att, "proximity", float(d[i]), float(f.confidence))
                contribs.setdefault(("enterprise", ent_ids[i]), []).append(c)
                continue
        if local is None:
            log.warning("finding %s has no geometry and no enterprise; it is not ranked", f.id)
            continue
        pt = local.representative_point() if local.geom_type != "Point" else local
        col = math.floor((pt.x - gx0) / weights.zone_size_m)
        row = math.floor((gy0 - pt.y) / weights.zone_size_m)
        zid = f"Z{row:02d}-{col:02d}"
        c = Contribution(f.id, f.kind, base, "zone", 0.0, float(f.confidence))
        contribs.setdefault(("zone", zid), []).append(c)
        zone_points.setdefault(zid, []).append((c.value, pt.x, pt.y))

    items: list[RankedItem] = []

    def make(kind: str, iid: str, name: str, industry, lon: float, lat: float) -> RankedItem:
        cs = sorted(contribs.get((kind, iid), []), key=lambda c: (-c.value, c.finding_id))
        score = _combine(cs)
        if cs:
            wsum = sum(c.value for c in cs)
            conf = (sum(c.value * c.confidence for c in cs) / wsum if wsum > 0 else float(np.mean([c.confidence for c in cs]))) * share
        else:
            conf = share
        ev = "; ".join(f"{by_id[c.finding_id].kind}: {evidence_summary(by_id[c.finding_id])}".rstrip(": ") for c in cs[: weights.max_reasons])
        if cs:
            reasons = _reasons(cs, by_id, weights)
        else:
            reasons = {"en": ("no evidence from the diagnostics that ran",), "zh": ("已运行的诊断未发现证据",)}
        return RankedItem(item_id=iid, item_type=kind, name=name, industry=industry, lon=lon, lat=lat, score=score,
                          confidence=min(max(conf, 0.0), 1.0), contributions=tuple(cs), reasons=reasons, evidence=ev,
                          not_assessed=not_assessed)

    if has_ent:
        inds = ent["industry"] if "industry" in ent.columns else [None] * len(ent)
        for iid, name, ind, lon, lat in zip(ent_ids, ent["name"], inds, ent["lon"], ent["lat"]):
            ind = None if ind is None or (isinstance(ind, float) and math.isnan(ind)) else str(ind)
            items.append(make("enterprise", iid, "" if name is None else str(name), ind, float(lon), float(lat)))
    for zid, pts in sorted(zone_points.items()):
        v, x, y = max(pts, key=lambda t: (t[0], -t[1], -t[2]))  # go where the strongest evidence is
        lon, lat = park.xy_to_lonlat(x, y)
        items.append(make("zone", zid, zid, None, float(lon), float(lat)))

    items.sort(key=lambda it: (-round(it.score, 9), -round(it.confidence, 9), it.item_type != "enterprise", it.item_id))
    return [RankedItem(**{**it.__dict__, "rank": i}) for i, it in enumerate(items, start=1)]
