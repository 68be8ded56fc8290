"""report.html: one self-contained file (inline CSS, images as data URIs, the map inline), en or zh.

Rendered with Jinja2 and autoescape on: every piece of user text (park and enterprise names,
evidence, reasons) is escaped; the interactive map is embedded as an ``<iframe srcdoc>`` whose
HTML is escaped as an attribute value, and a static PNG of the map (a data URI) stands in for
it when printing. Labels come from ``locale/<lang>.json``; numbers and dates are formatted per
locale.
"""
from __future__ import annotations

import base64
import json
import math
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

import jinja2

__all__ = ["render_report", "strings", "fmt_number", "fmt_datetime", "LANGS"]

LANGS = ("en", "zh")


@lru_cache(maxsize=None)
def strings(lang: str) -> dict[str, str]:
    """Report labels of a language (``locale/<lang>.json``)."""
    if lang not in LANGS:
        raise ValueError(f"unsupported report language {lang!r}; use one of {LANGS}")
    text = resources.files("parkscan.diagnostics").joinpath(f"locale/{lang}.json").read_text(encoding="utf-8")
    return json.loads(text)


def fmt_number(v: Any, lang: str = "en", *, digits: int | None = None) -> str:
    """A number for humans: thousands separators, sensible precision; None → "—".

    Examples
    --------
    >>> fmt_number(1234.567), fmt_number(0.01234), fmt_number(None), fmt_number(True, "zh")
    ('1,235', '0.0123', '—', '是')
    """
    if v is None:
        return "—"
    if isinstance(v, bool):
        return strings(lang)["yes" if v else "no"]
    if hasattr(v, "item") and callable(v.item):
        v = v.item()
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "—"
        if digits is not None:
            return f"{v:,.{digits}f}"
        a = abs(v)
        if a >= 100:
            return f"{v:,.0f}"
        if a >= 10:
            return f"{v:,.1f}"
        if a >= 1:
            return f"{v:.2f}"
        return f"{v:.3g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(fmt_number(x, lang) for x in v[:8]) + (" …" if len(v) > 8 else "")
    if isinstance(v, Mapping):
        return "; ".join(f"{k}: {fmt_number(x, lang)}" for k, x in list(v.items())[:8])
    return str(v)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def fmt_datetime(iso: str, lang: str = "en") -> str:
    """An ISO 8601 time per locale (``24 Nov 2026, 11:46 UTC`` / ``2026年11月24日 11:46 UTC``).

    Examples
    --------
    >>> fmt_datetime("2026-11-24T11:46:00+00:00", "zh")
    '2026年11月24日 11:46 UTC'
    """
    try:
        d = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if lang == "zh":
        return f"{d.year}年{d.month}月{d.day}日 {d:%H:%M} UTC"
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}, {d:%H:%M} UTC"


def _fmt_date(s: str, lang: str) -> str:
    """A date or date range (YYYY-MM-DD[/YYYY-MM-DD]) per locale."""
    parts = str(s).split("/")
    out = []
    for p in parts:
        try:
            d = datetime.fromisoformat(p[:10])
        except ValueError:
            out.append(p)
            continue
        out.append(f"{d.year}年{d.month}月{d.day}日" if lang == "zh" else f"{d.day} {_MONTHS[d.month - 1]} {d.year}")
    return " – ".join(out)


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    loader = jinja2.FunctionLoader(
        lambda name: resources.files("parkscan.diagnostics").joinpath(f"templates/{name}").read_text(encoding="utf-8"))
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


@lru_cache(maxsize=1)
def _evidence_labels() -> dict[str, dict[str, str]]:
    text = resources.files("parkscan.diagnostics").joinpath("locale/evidence.json").read_text(encoding="utf-8")
    return json.loads(text)


def _evidence_rows(ev: Mapping[str, Any], lang: str, *, limit: int = 400) -> list[tuple[str, str]]:
    """(label, value) rows of a finding's evidence; known keys get a label in the report language."""
    labels = _evidence_labels()
    rows = []
    for k, v in ev.items():
        key = str(k)
        k = labels[key].get(lang, key) if key in labels else key
        if isinstance(v, (list, tuple)) and v and isinstance(v[0], Mapping):  # e.g. candidate enterprises
            text = " | ".join(fmt_number(x, lang) for x in v[:5]) + (" …" if len(v) > 5 else "")
        else:
            text = v if isinstance(v, str) else fmt_number(v, lang)
        rows.append((str(k), text if len(text) <= limit else text[: limit - 1] + "…"))
    return rows


def render_report(screening, *, summary: Mapping[str, Any], map_html: str, map_png: bytes | None, lang: str = "en") -> str:
    """The report HTML of a screening.

    Parameters
    ----------
    screening : Screening
        What to report.
    summary : mapping
        ``screening.summary()`` (passed in so it is computed once).
    map_html : str
        The self-contained interactive map, embedded via ``iframe srcdoc`` (escaped).
    map_png : bytes, optional
        Static map PNG for printing (embedded as a data URI).
    lang : {"en", "zh"}
        Language of every label.
    """
    t = strings(lang)
    park = screening.park
    names = {}
    if park.enterprises is not None and len(park.enterprises):
        names = {str(i): ("" if n is None else str(n)) for i, n in zip(park.enterprises["enterprise_id"], park.enterprises["name"])}
    findings = []
    for i, f in enumerate(screening.findings, start=1):
        ent = None
        if f.enterprise_id is not None:
            ent = f"{names.get(str(f.enterprise_id), '')} ({f.enterprise_id})".strip() if names.get(str(f.enterprise_id)) else str(f.enterprise_id)
        findings.append({"n": i, "id": f.id, "kind": f.kind, "label": f.label(lang), "severity": fmt_number(float(f.severity), lang, digits=2),
                         "confidence": fmt_number(float(f.confidence), lang, digits=2), "score": fmt_number(f.score, lang, digits=2),
                         "enterprise": ent, "explain": f.explain.get(lang) or f.explain.get("en", ""),
                         "evidence": [r for r in _evidence_rows(f.evidence, lang) if len(r[1]) <= 60],
                         "evidence_long": [r for r in _evidence_rows(f.evidence, lang) if len(r[1]) > 60],
                         "sources": ", ".join(f.sources)})
    status = screening.status
    labels = screening.labels
    ran = [labels.get(n, {}).get(lang, n) for n, s in status.items() if s in ("ok", "partial")]
    missing = [labels.get(n, {}).get(lang, n) for n, s in status.items() if s == "not_provided"]
    failed = [f"{labels.get(n, {}).get(lang, n)}: {screening.coverage[n].get('detail', '')}" for n, s in status.items() if s == "failed"]
    sections: dict[str, list[dict[str, Any]]] = {}
    for name, e in summary["indicators"].items():
        if isinstance(e.get("value"), Mapping):  # nested tables (e.g. areas by class) are in summary.json / CSV tables
            continue
        sec = e.get("section", "other")
        key = f"section_{sec}" if f"section_{sec}" in t else None
        title = t[key] if key else labels.get(sec, {}).get(lang, sec)
        sections.setdefault(title, []).append({
            "label": e["label"].get(lang) or e["label"].get("en") or name,
            "value": fmt_number(e.get("value"), lang) + (f" ± {fmt_number(e['ci95'], lang)}" if e.get("ci95") is not None else ""),
            "unit": e.get("unit") or "", "status": t.get(f"st_{e.get('status')}", e.get("status", "")),
            "missing": e.get("value") is None,
        })
    coverage = []
    for row in summary["coverage"]:
        coverage.append({"label": row["label"].get(lang, row["diagnostic"]), "status": t.get(f"st_{row['status']}", row["status"]),
                         "status_key": row["status"], "inputs": ", ".join(row["inputs"]),
                         "dates": "; ".join(_fmt_date(d, lang) for d in row["dates"]),
                         "cloud": "" if row["cloud"] is None else fmt_number(row["cloud"], lang),
                         "detail": row.get("detail_zh", row["detail"]) if lang == "zh" else row["detail"]})
    visits = []
    for r in summary["site_visits"]:
        visits.append({**r, "score": fmt_number(float(r["score"]), lang, digits=2), "confidence": fmt_number(float(r["confidence"]), lang, digits=2),
                       "reasons_list": [x for x in str(r.get("reasons", "")).split(" | ") if x]})
    visits.sort(key=lambda r: r["visit_order"])
    w = screening.weights
    share = 1.0
    if w is not None:
        from .ranking import coverage_share

        share = coverage_share(status, w)
    methods = [(labels.get(n, {}).get(lang, n), m.get(lang) or m.get("en", "")) for n, m in screening.methods.items()]
    if w is not None:
        methods.append((t["ranking_method"], t["ranking_method_text"].format(
            dist=fmt_number(w.attribution_distance_m, lang), floor=w.proximity_floor, zone=fmt_number(w.zone_size_m, lang),
            share=f"{100 * share:.0f}%", weights=", ".join(f"{k} {v:g}" for k, v in sorted(w.kinds.items())))))
    zone_label = t["zone"]
    ranking = [{"rank": it.rank, "id": it.item_id, "name": it.name if it.item_type == "enterprise" else f"{zone_label} {it.item_id}",
                "industry": it.industry or "", "score": fmt_number(it.score, lang, digits=2),
                "confidence": fmt_number(it.confidence, lang, digits=2), "reasons": "; ".join(it.reasons.get(lang, ()))}
               for it in screening.ranking[:200]]
    route = summary["route"]
    ctx = {
        "t": t, "lang": lang, "park": {"id": park.id, "name": park.name, "approximate": summary["park"]["approximate"]},
        "generated": fmt_datetime(screening.started, lang) if screening.started else "",
        "areas": {k: fmt_number(v, lang) for k, v in summary["park"]["areas_ha"].items()},
        "n_findings": len(findings), "n_visits": len(visits), "n_enterprises": summary["park"]["enterprises"],
        "ran": ran, "missing": missing, "failed": failed,
        "park_level": [f"{_kind_label(x['kind'], lang)}: {x['explain'].get(lang) or x['explain'].get('en', '')}"
                       for x in summary.get("park_level_findings", [])],
        "no_findings_caveat": t["no_findings_caveat"].format(missing=", ".join(missing)) if missing else "",
        "top_sites": [r["name"] for r in sorted(visits, key=lambda r: r["rank"])[:5]],
        "sections": sections, "coverage": coverage, "findings": findings, "visits": visits,
        "route_intro": t["route_intro"].format(start=f"{route['start'][0]:.5f}, {route['start'][1]:.5f}",
                                               length=fmt_number(route.get("length_m", 0) / 1000.0, lang, digits=1)),
        "map_html": map_html, "map_png": base64.b64encode(map_png).decode("ascii") if map_png else None,
        "ranking": ranking,
        "ranking_more": t["ranking_more"].format(n=len(screening.ranking) - 200) if len(screening.ranking) > 200 else "",
        "methods": methods, "attributions": summary.get("attributions", screening.attributions),
        "limitations": [x.get(lang) or x.get("en", "") for x in screening.limitations],
        "versions": summary["versions"], "seconds": fmt_number(screening.seconds, lang, digits=1),
        "counts": [(labels_kind, n) for labels_kind, n in ((_kind_label(k, lang), n) for k, n in summary["counts_by_kind"].items())],
    }
    return _env().get_template("report.html.j2").render(**ctx)


def _kind_label(kind: str, lang: str) -> str:
    from .findings import KINDS

    return KINDS.get(kind, {}).get(lang, kind)
