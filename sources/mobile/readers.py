"""Reading raw mobile-monitoring files into a table of cells: CSV/TXT (any delimiter, UTF-8/GBK/GB18030,
an instrument header block before the data), XLSX and GPX.

The readers do not interpret columns: :mod:`.headers` does that. They return a :class:`RawTable`.
"""
from __future__ import annotations

import csv
import io
import logging
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd

from parkscan.aoi._tables import decode_text
from parkscan.aoi.errors import AOIError, SourceError, SourceIOError

from .headers import MappingFile, match_role

__all__ = ["RawTable", "read_raw", "decode"]

log = logging.getLogger(__name__)

_DELIMS = (",", ";", "\t", "|")


@dataclass
class RawTable:
    """A file read as a table, before its columns are understood."""

    path: Path
    """The file."""
    data: pd.DataFrame
    """The data rows; column names are the original headers."""
    first_line: int
    """1-based line (or sheet row) number of the first data row in the file, so flags can name rows."""
    kind: str
    """``csv``, ``xlsx`` or ``gpx``."""
    encoding: str | None = None
    """Text encoding used (CSV)."""
    delimiter: str | None = None
    """Field delimiter (CSV)."""
    meta: dict[str, Any] = field(default_factory=dict)
    """``key: value`` lines of an instrument header block, GPX metadata, sheet name, ..."""
    problems: list[str] = field(default_factory=list)
    """File-level problems found while reading (truncated GPX, ragged lines)."""
    unit_row: dict[str, str] = field(default_factory=dict)
    """Units given on a separate line under the header, by header."""


def decode(data: bytes, path: Path, encoding: str | None = None) -> tuple[str, str]:
    """Decode bytes: UTF-16 with a BOM, else UTF-8 (with or without BOM), else GB18030 (a superset of GBK/GB2312).

    The detection is :func:`parkscan.aoi._tables.decode_text`, shared with the enterprise and park tables.

    Raises
    ------
    SourceIOError
        When no encoding fits or the file looks binary.
    """
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as err:
            raise SourceIOError(f"{path}: cannot decode as {encoding} ({err}); remove the encoding option to auto-detect") from err
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceIOError(f"{path}: looks like a binary file, not a text table; give CSV, XLSX or GPX")
    try:
        text, enc = decode_text(data, path)  # UTF-16 with BOM, UTF-8 (BOM or not), GB18030
    except AOIError as err:
        raise SourceIOError(f"{err}, or give the encoding in the mapping file") from err
    return text, {"utf-8-sig": "utf-8", "gbk/gb18030": "gb18030"}.get(enc, enc)


def _split(line: str, delim: str) -> list[str]:
    if delim == " ":
        return line.split()
    return next(csv.reader([line], delimiter=delim)) if '"' in line else line.split(delim)


def _n_roles(cells: list[str], known: frozenset = frozenset()) -> int:
    roles = {("mapped", c.strip().strip('"')) if c.strip().strip('"') in known else match_role(c)[0] for c in cells}
    roles.discard(None)
    return len(roles)


def _looks_numeric(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _find_header(lines: list[str], delimiter: str | None, header_row: int | None, known: frozenset = frozenset()) -> tuple[int, str]:
    """Index of the header line and the delimiter."""
    delims = (delimiter,) if delimiter else _DELIMS + (" ",)
    if header_row is not None:
        line = lines[header_row]
        d = delimiter or max(_DELIMS, key=line.count)
        return header_row, d
    best = None
    for i, line in enumerate(lines[:200]):
        if not line.strip():
            continue
        for d in delims:
            if d != " " and d not in line:
                continue
            cells = _split(line, d)
            if len(cells) < 2:
                continue
            n = _n_roles(cells, known)
            if n >= 2 and sum(_looks_numeric(c) for c in cells) <= len(cells) // 3:
                # the following lines should split into as many cells
                follow = [len(_split(x, d)) for x in lines[i + 1 : i + 6] if x.strip()]
                consistent = sum(abs(f - len(cells)) <= 1 for f in follow)
                key = (n + consistent, len(cells))
                if best is None or key > best[0]:
                    best = (key, i, d)
        if best is not None and best[0][0] >= 4:
            break
    if best is None:
        return -1, ","
    return best[1], best[2]


def _meta_lines(lines: list[str]) -> dict[str, str]:
    meta: dict[str, str] = {}
    for line in lines:
        m = re.match(r"^\s*#?\s*([^:：=,;\t]{1,40})\s*[:：=,;\t]\s*(.+?)\s*[,;\t]*$", line)
        if m:
            meta[m.group(1).strip()] = m.group(2).strip()
    return meta


def _read_text(path: Path, data: bytes, opts: dict[str, Any]) -> RawTable:
    text, enc = decode(data, path, opts.get("encoding"))
    lines = text.splitlines() if len(text) < 1_000_000 else text[:400_000].splitlines()[:-1]  # the head is enough to find the header
    if not lines or not any(x.strip() for x in lines):
        raise SourceIOError(f"{path}: the file is empty; expected a header line and data rows")
    hr = opts.get("header_row")
    h, delim = _find_header(lines, opts.get("delimiter"), None if hr is None else int(hr), frozenset(opts.get("_known", ())))
    if h < 0:
        raise SourceError(
            f"{path}: no header line with recognisable columns (time, 经度/longitude, 纬度/latitude, pollutants) "
            f"in the first 200 lines; first line is {lines[0][:80]!r}. Give a --mapping file naming the columns"
        )
    meta = _meta_lines(lines[:h])
    headers = [c.strip().strip('"') for c in _split(lines[h], delim)]
    start = h + 1
    unit_row: dict[str, str] = {}
    if start < len(lines):
        nxt = [c.strip().strip('"') for c in _split(lines[start], delim)]
        from .headers import normalise_unit

        if nxt and sum(normalise_unit(c) is not None for c in nxt) >= max(1, len([c for c in nxt if c]) // 2) and not any(_looks_numeric(c) for c in nxt):
            unit_row = {hd: c for hd, c in zip(headers, nxt) if c}
            start += 1
    # the body starts after `start` physical lines (universal newlines)
    body = io.StringIO(text)
    for _ in range(start):
        body.readline()
    problems: list[str] = []
    # keep headers unique
    seen: dict[str, int] = {}
    uniq = []
    for c in headers:
        c = c or "unnamed"
        if c in seen:
            seen[c] += 1
            c = f"{c}.{seen[c]}"
        else:
            seen[c] = 0
        uniq.append(c)
    decimal = "."
    if delim in (";", "\t", "|"):
        sample = [c for x in lines[start : start + 20] for c in _split(x, delim)]
        if sum(bool(re.fullmatch(r"-?\d+,\d+", c.strip())) for c in sample) > len(sample) // 4:
            decimal = ","  # European decimal commas
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            df = pd.read_csv(
                body, sep=r"\s+" if delim == " " else delim, header=None, names=uniq,
                dtype=str if opts.get("all_text") else None, skip_blank_lines=False, engine="c" if delim != " " else "python",
                on_bad_lines="warn", index_col=False, decimal=decimal, keep_default_na=True, na_values=["--", "-", "NA", "N/A", "null", "NULL", "无", "#N/A"],
            )
        for w in caught:
            for m in re.finditer(r"Skipping line (\d+): (.+)", str(w.message)):
                problems.append(f"line {int(m.group(1)) + start} skipped: {m.group(2).strip()}")
    except (pd.errors.ParserError, ValueError) as err:
        raise SourceIOError(f"{path}: cannot parse the table after line {start} with delimiter {delim!r} ({err})") from err
    # drop fully blank lines but remember their numbers: rows keep their file line numbers
    df.index = np.arange(start + 1, start + 1 + len(df))
    blank = df.isna().all(axis=1)
    if blank.any():
        df = df[~blank]
    last = text.rstrip("\r\n").rsplit("\n", 1)[-1]
    if len(df) and len(last.split(delim if delim != " " else None)) < len(uniq) and not text.endswith(("\n", "\r")):
        problems.append(f"last line {start + len(df)} is incomplete (truncated file?)")
    return RawTable(path=path, data=df, first_line=start + 1, kind="csv", encoding=enc, delimiter=delim, meta=meta, problems=problems, unit_row=unit_row)


def _read_xlsx(path: Path, opts: dict[str, Any]) -> RawTable:
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as err:
        raise SourceIOError(f"{path}: cannot open as XLSX ({type(err).__name__}: {err}); the file may be truncated or not an Excel workbook") from err
    for name, raw in sheets.items():
        lines = [",".join("" if pd.isna(v) else str(v).replace(",", " ") for v in row) for row in raw.itertuples(index=False)]
        hr = opts.get("header_row")
        h, _ = _find_header(lines, ",", None if hr is None else int(hr), frozenset(opts.get("_known", ())))
        if h < 0:
            continue
        headers = [("" if pd.isna(v) else str(v)).strip() for v in raw.iloc[h]]
        df = raw.iloc[h + 1 :].copy()
        df.columns = [c or f"unnamed.{i}" for i, c in enumerate(headers)]
        df.index = np.arange(h + 2, h + 2 + len(df))
        df = df.dropna(how="all")
        for c in df.columns:
            if df[c].dtype == object or isinstance(df[c].dtype, pd.StringDtype):  # pandas 3 reads text as str
                conv = pd.to_numeric(df[c], errors="coerce")
                if conv.notna().sum() == df[c].notna().sum():
                    df[c] = conv
        return RawTable(path=path, data=df, first_line=h + 2, kind="xlsx", meta={"sheet": str(name), **_meta_lines(lines[:h])})
    raise SourceError(f"{path}: no sheet has a header row with recognisable columns (time, 经度, 纬度, pollutants); give a --mapping file")


def _read_gpx(path: Path, data: bytes) -> RawTable:
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        for _, el in ET.iterparse(io.BytesIO(data), events=("end",)):
            tag = el.tag.rsplit("}", 1)[-1]
            if tag in ("trkpt", "rtept", "wpt"):
                rec: dict[str, Any] = {"lat": el.get("lat"), "lon": el.get("lon")}
                for child in el:
                    ctag = child.tag.rsplit("}", 1)[-1]
                    if ctag == "time":
                        rec["time"] = child.text
                    elif ctag == "ele":
                        rec["altitude"] = child.text
                    elif ctag == "speed":
                        rec["speed(m/s)"] = child.text
                rows.append(rec)
                el.clear()
    except ET.ParseError as err:
        if not rows:
            raise SourceIOError(f"{path}: not a readable GPX file ({err})") from err
        problems.append(f"GPX ends early ({err}); {len(rows)} track points read before the break")
    if not rows:
        raise SourceError(f"{path}: the GPX file holds no track points (<trkpt>)")
    df = pd.DataFrame(rows)
    for c in ("lat", "lon", "altitude", "speed(m/s)"):
        if c in df:
            df[c] = pd.to_numeric(df[c], errors="coerce")
    df.index = np.arange(1, len(df) + 1)
    return RawTable(path=path, data=df, first_line=1, kind="gpx", meta={}, problems=problems)


def read_raw(path: str | Path, *, mapping: MappingFile | None = None) -> RawTable:
    """Read one file (CSV/TXT/TSV, XLSX or GPX) into a :class:`RawTable`.

    Raises
    ------
    SourceIOError
        Missing, unreadable, undecodable or broken files.
    SourceError
        No header line could be recognised.
    """
    p = Path(path)
    opts = dict((mapping.options if mapping else {}) or {})
    opts["_known"] = tuple(mapping.columns) if mapping else ()
    try:
        data = p.read_bytes()
    except FileNotFoundError as err:
        raise SourceIOError(f"{p}: no such file") from err
    except OSError as err:
        raise SourceIOError(f"{p}: cannot read ({err.strerror})") from err
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm") or data[:4] == b"PK\x03\x04":
        return _read_xlsx(p, opts)
    if suffix == ".xls":
        raise SourceError(f"{p}: old .xls workbooks are not supported; save it as .xlsx or CSV")
    if suffix == ".gpx" or data.lstrip()[:200].find(b"<gpx") >= 0:
        return _read_gpx(p, data)
    return _read_text(p, data, opts)
