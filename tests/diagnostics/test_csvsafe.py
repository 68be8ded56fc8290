"""CSV outputs are formula-defused whatever the column dtype (pandas 3 stores text as ``str``, not object)."""
from __future__ import annotations

import csv

import numpy as np
import pandas as pd

from parkscan.diagnostics.cli.mobile import _write_csv
from parkscan.diagnostics.csvsafe import write_csv


def _rows(p):
    with open(p, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_string_dtype_and_missing_values(tmp_path):
    df = pd.DataFrame({
        "name": pd.array(["=cmd|' /C calc'!A0", "ok", None], dtype="str"),
        "cat": pd.Categorical(["@SUM(1)", "b", "b"]),
        "n": pd.array([1, None, 3], dtype="Int64"),
        "x": [np.float32(0.5), np.nan, -2.0],
    })
    write_csv(tmp_path / "t.csv", df)
    rows = _rows(tmp_path / "t.csv")
    assert rows[1] == ["'=cmd|' /C calc'!A0", "'@SUM(1)", "1", "0.5"]
    assert rows[2] == ["ok", "b", "", ""]
    assert rows[3] == ["", "b", "3", "-2.0"]


def test_mobile_cli_tables_are_defused(tmp_path):
    df = pd.DataFrame({"enterprise": ["+1+1", "安全化工"], "score": [0.5, -1.0]})
    assert str(df["enterprise"].dtype) != "object" or pd.__version__ < "3"
    _write_csv(df, tmp_path / "enterprise_scores.csv")
    rows = _rows(tmp_path / "enterprise_scores.csv")
    assert [r[0] for r in rows[1:]] == ["'+1+1", "安全化工"]
    assert rows[2][1] == "-1.0"


def test_container_cells(tmp_path):
    df = pd.DataFrame({"reasons": [["=a", "b"], [[1], [1, 2]], ("x",)], "t": [pd.Timestamp("2024-05-01"), pd.NaT, None]})
    write_csv(tmp_path / "t.csv", df)
    rows = _rows(tmp_path / "t.csv")
    assert rows[1] == ["['=a', 'b']", "2024-05-01 00:00:00"]
    assert rows[2] == ["[[1], [1, 2]]", ""]
    assert rows[3] == ["('x',)", ""]
