"""Platform pull over loopback HTTP, ML comparisons and the campaign planner on small data."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest

from parkscan.aoi.errors import ModelError, SourceAPIError, SourceError
from parkscan.aoi.options import set_options
from parkscan.models.mobile import analyse
from parkscan.models.mobile.ml import lur_cv, lur_dataset, nmf_apportion
from parkscan.models.mobile.planner import plan_passes, spearman_brown
from parkscan.sources.mobile import read_mobile
from parkscan.sources.mobile.platform import fetch_platform

from .conftest import ENTERPRISES, loop_track

pytestmark = pytest.mark.filterwarnings("ignore::parkscan.aoi.errors.DataQualityWarning")


@pytest.fixture()
def server():
    track = loop_track(1).head(200)
    seen = {}

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            seen["auth"] = self.headers.get("Authorization")
            if self.path.startswith("/json"):
                body = json.dumps({"code": 0, "data": {"rows": track.to_dict("records")}}, ensure_ascii=False).encode()
                ctype = "application/json; charset=utf-8"
            elif self.path.startswith("/csv"):
                body, ctype = track.to_csv(index=False).encode("gbk"), "text/csv"
            elif self.path.startswith("/login"):
                body, ctype = b"<html>login</html>", "text/html"
            else:
                self.send_response(404)
                self.end_headers()
                self.wfile.write(b"no such vehicle")
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.server_port}", seen
    srv.shutdown()


def test_platform_json_and_csv(server, tmp_path, monkeypatch):
    base, seen = server
    monkeypatch.setenv("PARKSCAN_MOBILE_TOKEN", "s3cret-token")
    p = fetch_platform(f"{base}/json/track", tmp_path)
    assert seen["auth"] == "Bearer s3cret-token"
    run = read_mobile(p)
    assert len(run.points) == 200 and "tvoc" in run.pollutants
    q = fetch_platform(f"{base}/csv/track", tmp_path, name="c")
    assert read_mobile(q).files[0].encoding == "gb18030"


def test_platform_errors(server, tmp_path):
    base, _ = server
    with set_options(http_retries=0):
        with pytest.raises(SourceAPIError, match="404"):
            fetch_platform(f"{base}/nothing", tmp_path)
        with pytest.raises(SourceError, match="HTML"):
            fetch_platform(f"{base}/login", tmp_path)


@pytest.fixture(scope="module")
def two_day_analysis(tmp_path_factory):
    d = tmp_path_factory.mktemp("days")
    files = []
    for i, day in enumerate(["2025-06-10", "2025-06-11", "2025-06-12"]):
        p = d / f"day{i}.csv"
        loop_track(3, seed=i, start=f"{day} 09:00:00").to_csv(p, index=False)
        files.append(p)
    run = read_mobile(files)
    return analyse(run, enterprises=ENTERPRISES, lag=None)


def test_lur_cv_compares_with_plain_statistics(two_day_analysis):
    d = lur_dataset(two_day_analysis, ENTERPRISES, "tvoc")
    assert d["day"].nunique() == 3 and any(c.startswith("f_upwind_") for c in d.columns)
    cv = lur_cv(d)
    assert set(cv["scheme"]) == {"leave-one-day-out", "spatial-blocks"}
    assert set(cv["model"]) == {"gbm", "rf", "idw", "mean"}
    assert np.isfinite(cv["rmse_log"]).all()
    with pytest.raises(ModelError):
        lur_dataset(two_day_analysis, None, "tvoc")


def test_nmf_profiles_match_fingerprints(two_day_analysis):
    res = nmf_apportion(two_day_analysis.points, two_day_analysis.pollutants, seed=0)
    assert res.r2 > 0.5 and 1 <= res.k <= 4
    assert (res.profiles.to_numpy() >= 0).all()
    # the plume factor (toluene + xylene + TVOC) is a coating/printing profile
    plume = res.matches.loc[res.matches["main_pollutants"].str.contains("xylene|toluene")]
    assert len(plume) and set(plume["industry"]) & {"coating", "printing"}


def test_planner(two_day_analysis):
    assert spearman_brown(0.5, 1) == 0.5 and spearman_brown(0.5, 3) == pytest.approx(0.75)
    plan = plan_passes(two_day_analysis, "tvoc", n_boot=5)
    assert plan.drives == 3 and 0 <= plan.r1 <= 1
    assert plan.needed is None or plan.needed >= 1
    assert list(plan.curve["n"][:3]) == [1, 2, 3]
