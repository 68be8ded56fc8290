"""Reading user tables (CSV in UTF-8/GBK/GB18030, XLSX) and finding columns by Chinese or English names."""
from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import pandas as pd

from .errors import AOIError

__all__ = ["read_table", "decode_text", "find_column", "norm_header"]

log = logging.getLogger(__name__)

_ENCODINGS = ("utf-8-sig", "gb18030")  # gb18030 is a superset of GBK and GB2312


def decode_text(raw: bytes, path: Path | str) -> tuple[str, str]:
    """Decode file bytes as UTF-8 (with or without BOM) or GB18030/GBK; returns (text, encoding).

    UTF-16 with a BOM (Excel's "Unicode text") is accepted too.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as err:
            raise AOIError(f"{path}: starts with a UTF-16 byte-order mark but is not valid UTF-16 ({err.reason} at byte "
                           f"{err.start}); the file may be truncated — save it as UTF-8 CSV and try again") from err
    for enc in _ENCODINGS:
        try:
            return raw.decode(enc), ("gbk/gb18030" if enc == "gb18030" else enc)
        except UnicodeDecodeError:
            continue
    raise AOIError(f"{path}: the text is neither UTF-8 nor GBK/GB18030; save it as UTF-8 CSV and try again")


def norm_header(name: object, *, keep_units: bool = False) -> str:
    """Lower-case a header and drop spaces and punctuation; without ``keep_units`` also what is in brackets.

    ``'经度 (°)'`` → ``'经度'``; ``'面积(平方公里)'`` → ``'面积'``, or ``'面积平方公里'`` with ``keep_units``.
    """
    return _norm(str(name), keep_units)


@lru_cache(maxsize=4096)
def _norm(name: str, keep_units: bool) -> str:
    s = name.strip().lower().replace("\ufeff", "")
    if not keep_units:
        s = re.sub(r"[（(\[【].*?[）)\]】]", "", s)  # units in brackets
    return re.sub(r"[\s_\-./:：（()）\[\]【】°]", "", s)


def find_column(columns: Iterable[object], candidates: Iterable[str], *, exclude: Iterable[object] = ()) -> object | None:
    """The column whose header matches one of ``candidates`` (in candidate order), or None.

    Headers are compared with their bracketed units first (``面积(平方公里)`` matches ``面积平方公里``),
    then without them (``经度(°)`` matches ``经度``).
    """
    skip = set(exclude)
    cols = [c for c in columns if c not in skip]
    cands = list(candidates)
    for keep in (True, False):
        normed: dict[str, object] = {}
        for c in cols:
            normed.setdefault(norm_header(c, keep_units=keep), c)
        for cand in cands:
            key = norm_header(cand, keep_units=True)
            if key in normed:
                return normed[key]
    return None


def _sniff_sep(text: str) -> str:
    """The delimiter among , TAB ; | that splits the first lines most consistently (title rows allowed).

    For each candidate, the most common non-zero number of delimiters per line and the share of lines
    having it are computed; the highest share wins, then the larger count (so ``a;b;c`` with decimal
    commas is read as semicolon-separated).
    """
    from collections import Counter

    lines = [ln for ln in text.splitlines()[:30] if ln.strip()]
    best, best_key = ",", (0.0, 0)
    for sep in (",", "\t", ";", "|"):
        counts = Counter(ln.count(sep) for ln in lines)
        counts.pop(0, None)
        if not counts:
            continue
        n, k = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        key = (k / len(lines), n)
        if key > best_key:
            best, best_key = sep, key
    return best


def _header_index(rows: list[list], hints: set[str]) -> int:
    """Index of the header row: the first of the first 10 rows with >= 2 known header names, else the first row."""
    for i, row in enumerate(rows[:10]):
        if sum(1 for c in row if c is not None and norm_header(c) in hints) >= 2:
            return i
    return 0


def _cell(v) -> str | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    s = str(v)
    return s if s.strip() else None


def read_table(path: Path | str, *, hints: Iterable[str] = ()) -> tuple[pd.DataFrame, dict]:
    """Read a CSV/TSV/TXT (encoding and delimiter detected) or XLSX file into a DataFrame of strings.

    Parameters
    ----------
    path : str or Path
        The table.
    hints : iterable of str
        Known header names: the header is the first of the first 10 rows holding two of them, so
        title rows above the header (common in Chinese spreadsheets) are skipped.

    Returns
    -------
    (DataFrame, dict)
        Cells are ``str`` or None, headers verbatim (BOM and outer spaces removed), plus ``_row0``:
        the spreadsheet row number minus 2 (so ``_row0 + 2`` is the row a user sees, header row
        of a plain file = 1). Info: ``{"encoding", "format", "header_row"}``.

    Raises
    ------
    AOIError
        If the file is missing, unreadable or has no data rows.
    """
    path = Path(path)
    if not path.is_file():
        raise AOIError(f"{path}: file not found; check the path")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            raw_df = pd.read_excel(path, dtype=object, header=None, engine="openpyxl")
        except (zipfile.BadZipFile, ValueError, KeyError, OSError) as err:
            raise AOIError(f"{path}: cannot read as an Excel .xlsx workbook ({err}); save it as .xlsx or UTF-8 CSV") from err
        rows = [[_cell(v) for v in r] for r in raw_df.itertuples(index=False, name=None)]
        info: dict = {"encoding": None, "format": "xlsx"}
    elif suffix == ".xls":
        raise AOIError(f"{path}: old Excel .xls is not supported; save it as .xlsx or UTF-8 CSV")
    else:
        try:
            raw = path.read_bytes()
        except OSError as err:
            raise AOIError(f"{path}: cannot read the file ({err.strerror or err})") from err
        if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise AOIError(f"{path}: this is a binary file, not a CSV table; give a CSV (UTF-8 or GBK) or XLSX file")
        text, enc = decode_text(raw, path)
        sep = "\t" if suffix == ".tsv" else _sniff_sep(text)
        try:
            rows = [[_cell(c) for c in r] for r in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=sep)]
        except csv.Error as err:
            raise AOIError(f"{path}: cannot parse as a CSV table ({err}); check the delimiter and quoting") from err
        info = {"encoding": enc, "format": "csv"}
    if not any(any(c is not None for c in r) for r in rows):
        raise AOIError(f"{path}: the table is empty")
    hints_n = {norm_header(h) for h in hints}
    first = next(i for i, r in enumerate(rows) if any(c is not None for c in r))
    h = first + _header_index(rows[first:], hints_n) if hints_n else first
    header = [("" if c is None else str(c).replace("\ufeff", "").strip()) for c in rows[h]]
    width = len(header)
    seen: dict[str, int] = {}
    cols = []
    for j, c in enumerate(header):
        c = c or f"column{j + 1}"
        if c in seen:
            seen[c] += 1
            c = f"{c}.{seen[c]}"
        seen.setdefault(c, 0)
        cols.append(c)
    data, row0 = [], []
    for i in range(h + 1, len(rows)):
        r = rows[i]
        if not any(c is not None for c in r):
            continue
        data.append((r + [None] * width)[:width])
        row0.append(i + 1 - 2)  # spreadsheet row (1-based) minus 2
    if not data:
        raise AOIError(f"{path}: the table has a header but no data rows")
    df = pd.DataFrame(data, columns=cols, dtype=object)
    df.insert(0, "_row0", row0)
    info["header_row"] = h + 1
    log.debug("read %s: %d rows, columns %s, %s", path, len(df), cols, info)
    return df, info
