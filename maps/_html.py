"""Escaping helpers: every user-supplied string is HTML-escaped, every JSON blob is safe inside ``<script>``."""
from __future__ import annotations

import html
import json
import math
import re
from typing import Any, Mapping

__all__ = ["esc", "js_json", "safe_color", "fmt_value", "table_html"]

_COLOR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20}|rgba?\([0-9.,\s%]+\))$")


def esc(value: Any) -> str:
    """HTML-escape ``value`` (converted to text); ``None`` becomes an empty string.

    Examples
    --------
    >>> esc('<script>alert(1)</script>')
    '&lt;script&gt;alert(1)&lt;/script&gt;'
    """
    if value is None:
        return ""
    return html.escape(str(value), quote=True)


def js_json(obj: Any) -> str:
    """JSON that can be pasted into a ``<script>`` block or an HTML attribute.

    ``<``, ``>``, ``&``, ``'`` and the JS line separators are written as ``\\uXXXX`` escapes,
    so a string can never close the script element (same idea as Jinja's ``tojson``).
    """
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_default)
    return (
        text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


def _default(o: Any) -> Any:
    if hasattr(o, "item") and callable(o.item):
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "isoformat"):
        return o.isoformat()
    return str(o)


def safe_color(value: Any, default: str = "#3388ff") -> str:
    """A CSS colour if ``value`` looks like one (hex, name, rgb()), else ``default``."""
    s = str(value).strip() if value is not None else ""
    return s if _COLOR.match(s) else default


def fmt_value(v: Any) -> str:
    """Human text for a property value (numbers rounded, lists joined); not escaped."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return ""
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:,.0f}"
    if isinstance(v, (list, tuple)):
        return ", ".join(fmt_value(x) for x in v)
    if isinstance(v, Mapping):
        return "; ".join(f"{k}: {fmt_value(x)}" for k, x in v.items())
    return str(v)


def table_html(rows: list[tuple[str, Any]]) -> str:
    """A small two-column HTML table; labels and values are escaped, nested mappings become nested tables."""
    out = ['<table class="ps-popup-table">']
    for label, value in rows:
        if isinstance(value, Mapping) and value:
            cell = table_html([(str(k), v) for k, v in value.items()])
        else:
            cell = esc(fmt_value(value))
        out.append(f"<tr><th>{esc(label)}</th><td>{cell}</td></tr>")
    out.append("</table>")
    return "".join(out)
