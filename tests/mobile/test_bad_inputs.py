"""A corpus of broken mobile files: each gives a clear ParkscanError (CLI: one line, exit 1) or flagged rows,
never a traceback."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from parkscan.aoi.errors import ParkscanError
from parkscan.diagnostics.cli import cli
from parkscan.sources.mobile import read_mobile

from .conftest import loop_track

pytestmark = pytest.mark.filterwarnings("ignore::parkscan.aoi.errors.DataQualityWarning")


def _good(n: int = 300) -> pd.DataFrame:
    return loop_track(2).head(n).copy()


def _csv(df: pd.DataFrame, **kw) -> bytes:
    return df.to_csv(index=False, **kw).encode(kw.pop("encoding", "utf-8") if "encoding" in kw else "utf-8")


def build_corpus(d: Path) -> dict[str, tuple[Path, str]]:
    """name → (path, expectation): ``error:<text in message>`` or ``flag:<reason code>``."""
    out: dict[str, tuple[Path, str]] = {}

    def put(name, data: bytes, expect):
        p = d / name
        p.write_bytes(data)
        out[name] = (p, expect)

    good = _good()
    text = good.to_csv(index=False)
    put("truncated.csv", text[: len(text) - 37].encode(), "flag:TRUNCATED")
    put("gbk_ok.csv", text.encode("gbk"), "ok")
    put("wrong_encoding.csv", text.encode("utf-8")[:200] + b"\xff\xfe\xff\xff" + text.encode("utf-8")[200:], "error:neither UTF-8 nor GBK")
    put("no_coordinates.csv", good.drop(columns=["经度", "纬度"]).to_csv(index=False).encode(), "error:no file has coordinates")
    nan = good.copy()
    nan["甲苯(ppb)"] = np.nan
    put("all_nan_pollutant.csv", nan.to_csv(index=False).encode(), "flag:ALL_NAN")
    back = good.copy()
    back.loc[150:160, "采样时间"] = back.loc[50:60, "采样时间"].to_numpy()
    put("time_backwards.csv", back.to_csv(index=False).encode(), "flag:TIME_BACKWARDS")
    mixed = good.copy()
    mixed["坐标系"] = ["wgs84"] * 100 + ["gcj02"] * 100 + ["mars?"] * 100
    put("mixed_datums.csv", mixed.to_csv(index=False).encode(), "flag:BAD_DATUM")
    put("empty.csv", b"", "error:empty")
    put("header_only.csv", ",".join(good.columns).encode() + b"\n", "error:no valid row")
    put("binary.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "error:binary")
    put("no_time.csv", good.drop(columns=["采样时间"]).to_csv(index=False).encode(), "error:no time column")
    garbage = good.copy()
    garbage["采样时间"] = "not a time"
    put("garbage_times.csv", garbage.to_csv(index=False).encode(), "error:no parseable time")
    jump = good.copy()
    jump.loc[77, "经度"] = jump.loc[77, "经度"] + 0.2
    put("gps_jump.csv", jump.to_csv(index=False).encode(), "flag:GPS_JUMP")
    neg = good.copy()
    neg.loc[10:20, "SO2(ppb)"] = -3.0
    put("negative.csv", neg.to_csv(index=False).encode(), "flag:NEGATIVE")
    zero = good.copy()
    zero.loc[5:15, ["经度", "纬度"]] = 0.0
    put("zero_coords.csv", zero.to_csv(index=False).encode(), "flag:BAD_COORD")
    swapped = good.rename(columns={"经度": "纬度", "纬度": "经度"})
    put("swapped_lonlat.csv", swapped.to_csv(index=False).encode(), "flag:COORD_SWAPPED")
    buf = io.BytesIO()
    good.to_excel(buf, index=False, engine="openpyxl")
    put("truncated.xlsx", buf.getvalue()[:1500], "error:cannot open as XLSX")
    gpx = "<?xml version='1.0'?><gpx><trk><trkseg>" + "".join(
        f"<trkpt lat='{31.3 + i * 1e-4}' lon='120.6'><time>2025-06-10T01:00:{i:02d}Z</time></trkpt>" for i in range(40)) + "<trkpt lat="
    put("truncated.gpx", gpx.encode(), "error:no file has coordinates|flag:TRUNCATED")
    put("ragged.csv", (text + "2025-06-10 10:00:00,1,2,3,4,5,6,7,8,9,10,11,12\n").encode(), "flag:UNPARSEABLE_LINE")
    put("semicolon_decimal_comma.csv", good.to_csv(index=False, sep=";", decimal=",").encode(), "ok")
    put("old.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100, "error:binary|error:xls")
    dup = pd.concat([good, good.iloc[100:120]]).sort_index(kind="stable")
    put("duplicated_times.csv", dup.to_csv(index=False).encode(), "flag:DUP_TIME")
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("bad"))


def test_corpus_is_large_enough(corpus):
    assert len(corpus) >= 15


@pytest.mark.parametrize("name", [
    "truncated.csv", "gbk_ok.csv", "wrong_encoding.csv", "no_coordinates.csv", "all_nan_pollutant.csv", "time_backwards.csv",
    "mixed_datums.csv", "empty.csv", "header_only.csv", "binary.csv", "no_time.csv", "garbage_times.csv", "gps_jump.csv",
    "negative.csv", "zero_coords.csv", "swapped_lonlat.csv", "truncated.xlsx", "ragged.csv", "semicolon_decimal_comma.csv",
    "old.xls", "duplicated_times.csv",
])
def test_bad_input_gives_clear_error_or_flags(corpus, name):
    path, expect = corpus[name]
    options = expect.split("|")
    try:
        run = read_mobile(path)
    except ParkscanError as err:
        msg = str(err)
        wanted = [o[6:] for o in options if o.startswith("error:")]
        assert wanted, f"{name}: unexpected error {msg}"
        assert any(w.lower() in msg.lower() for w in wanted), msg
        assert path.name in msg or "no file has coordinates" in msg or "no valid row" in msg, msg  # names the file
        return
    codes = set(run.flags["code"])
    wanted = [o[5:] for o in options if o.startswith("flag:")]
    if "ok" in options:
        assert len(run.points) == 300 and run.points["valid"].all() and {"tvoc", "so2"} <= set(run.pollutants)
    else:
        assert wanted and any(w in codes for w in wanted), f"{name}: flags {codes}"


def test_cli_never_tracebacks(corpus, tmp_path):
    runner = CliRunner()
    for name, (path, _) in corpus.items():
        res = runner.invoke(cli, ["mobile", str(path), "--out", str(tmp_path / name)])
        assert res.exit_code in (0, 1), f"{name}: exit {res.exit_code}\n{res.output}"
        if res.exit_code == 1:
            assert res.output.startswith("Error: ") and res.output.count("\n") == 1, res.output
        else:
            assert (tmp_path / name / "map.html").exists()
        assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit), f"{name}: {res.exception!r}"
