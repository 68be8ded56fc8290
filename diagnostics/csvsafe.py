"""CSV output that spreadsheets cannot execute (CSV/formula injection defused)."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parkscan.aoi.atomic import write_text

__all__ = ["defuse", "write_csv"]

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


def _cell(v: Any) -> Any:
    if v is None or v is pd.NaT or v is pd.NA:
        return ""
    if isinstance(v, (float, np.floating)) and np.isnan(v):
        return ""
    if isinstance(v, (np.integer, np.floating, np.bool_)):
        v = v.item()
    if isinstance(v, (list, tuple, set, dict)):  # containers: their text, defused like any other text
        v = str(v)
    return defuse(v) if isinstance(v, str) else v


def write_csv(path: str | Path, table: pd.DataFrame) -> Path:
    """Write a table as UTF-8 CSV with BOM (Excel reads Chinese), formula-defused, atomically.

    Every text cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading apostrophe;
    numbers stay numbers; missing values (None, NaN, NA, NaT) are empty cells. Column names are
    defused too. Cells are defused whatever the column's dtype (object, pandas ``str``/``string``,
    categorical).
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([_cell(str(c)) for c in table.columns])
    for row in table.itertuples(index=False, name=None):
        w.writerow([_cell(v) for v in row])
    return write_text(path, "\ufeff" + buf.getvalue())
