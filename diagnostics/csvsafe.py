"""CSV output that spreadsheets cannot execute (CSV/formula injection defused)."""
from __future__ import annotations

import re
from typing import Any

__all__ = ["defuse"]

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: Any) -> Any:
    """Return ``value`` safe for a CSV cell opened in Excel/LibreOffice/WPS.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading
    apostrophe (OWASP's advice); plain numbers (including negative ones) stay as they are.

    Examples
    --------
    >>> defuse("=HYPERLINK(1)")
    "'=HYPERLINK(1)"
    >>> defuse("-12.5")
    '-12.5'
    >>> defuse(3)
    3
    """
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(_TRIGGERS) and not _NUMBER.match(value):
        return "'" + value
    return value
