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
        return raw.decode("utf-16"), "utf-16"
    for enc in _ENCODINGS:
        try:
            return raw.decode(enc), ("gbk/gb18030" if enc == "gb18030" else enc)
        except UnicodeDecodeError:
            continue
    raise AOIError(f"{path}: the text is neither UTF-8 nor GBK/GB18030; save it as UTF-8 CSV and try again")


def norm_header(name: object) -> str:
    """Lower-case a header and drop spaces, brackets, units and punctuation: ``'经度 (°)'`` → ``'经度'``."""
    return _norm(str(name))


@lru_cache(maxsize=4096)
def _norm(name: str) -> str:
    s = name.strip().lower().replace("\ufeff", "")
    s = re.sub(r"[（(\[【].*?[）)\]】]", "", s)  # units in brackets
    return re.sub(r"[\s_\-./:：]", "", s)


def find_column(columns: Iterable[object], candidates: Iterable[str]) -> object | None:
    """The first column whose normalised header equals one of ``candidates`` (in candidate order)."""
    cols = list(columns)
    normed = {}
    for c in cols:
        normed.setdefault(norm_header(c), c)
    for cand in candidates:
        key = norm_header(cand)
        if key in normed:
            return normed[key]
    return None


def _sniff_sep(text: str) -> str:
    head = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_table(path: Path | str) -> tuple[pd.DataFrame, dict]:
    """Read a CSV/TSV/TXT (encoding detected) or XLSX file into a DataFrame of strings.

    Returns the frame (all cells ``str`` or NaN, header kept verbatim) and info
    ``{"encoding": ..., "format": ..., "header_rows": 1}``. Data row *i* (0-based) is row
    ``i + 2`` of the file as a spreadsheet user counts it (header is row 1).

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
            df = pd.read_excel(path, dtype=str, engine="openpyxl")
        except (zipfile.BadZipFile, ValueError, KeyError, OSError) as err:
            raise AOIError(f"{path}: cannot read as an Excel .xlsx workbook ({err}); save it as .xlsx or UTF-8 CSV") from err
        info = {"encoding": None, "format": "xlsx"}
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
            df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                             skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
            raise AOIError(f"{path}: cannot parse as a CSV table ({err}); check the delimiter and quoting") from err
        info = {"encoding": enc, "format": "csv"}
    df.columns = [str(c).replace("\ufeff", "").strip() for c in df.columns]
    df = df.dropna(how="all").reset_index(drop=False).rename(columns={"index": "_row0"})
    if df.empty:
        raise AOIError(f"{path}: the table has a header but no data rows")
    info["header_rows"] = 1
    log.debug("read %s: %d rows, columns %s, %s", path, len(df), list(df.columns), info)
    return df, info
