"""Fixtures for the map tests: small synthetic layers and a real headless Chromium driven over the DevTools protocol.

The browser is Debian's ``/usr/bin/chromium`` (installed by ``make test`` through ``.ci/system-deps``), talked to
through ``--remote-debugging-pipe`` (file descriptors 3/4, NUL-separated JSON), so no extra Python package and
no TCP port are needed. Every request the page makes is recorded.
"""
from __future__ import annotations

import base64
import io
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from parkscan.maps import RasterLayer, TrackLayer, VectorLayer

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
    "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--mute-audio",
    "--disable-default-apps", "--disable-extensions", "--window-size=1200,900",
    "--proxy-server=127.0.0.1:9",  # belt and braces: anything that escapes the recording goes nowhere
]


def _poly(x0, y0, x1, y1):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def _fc(feats):
    return {"type": "FeatureCollection", "features": feats}


def _feat(geom, **props):
    return {"type": "Feature", "geometry": geom, "properties": props}


HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>']


def make_layers() -> list[Any]:
    """A small park with every layer type, hostile enterprise names included."""
    layers: list[Any] = [
        VectorLayer("Approved boundary", _fc([_feat(_poly(113.30, 23.10, 113.34, 23.13), name="测试园区", area_ha=1234.5)]),
                    kind="approved", popup_fields=(("name", "Name"), ("area_ha", "Area (ha)"))),
        VectorLayer("Managed boundary", _fc([_feat(_poly(113.295, 23.095, 113.345, 23.135), name="managed")]), kind="managed"),
        VectorLayer("Sub-parks", _fc([_feat(_poly(113.30, 23.10, 113.32, 23.115), name="东区 <b>", subpark="东区")]), kind="subpark"),
    ]
    ents = [
        _feat({"type": "Point", "coordinates": [113.305, 23.105]}, name=HOSTILE[0], industry="化工", enterprise_id="E1"),
        _feat({"type": "Point", "coordinates": [113.315, 23.112]}, name=HOSTILE[1], industry="涂装", enterprise_id="E2"),
        _feat({"type": "Point", "coordinates": [113.325, 23.118]}, name="Good Co", industry=None, enterprise_id="E3"),
    ]
    layers.append(VectorLayer("Enterprises", _fc(ents), kind="enterprises", color_by="industry",
                              popup_fields=(("name", "Name"), ("industry", "Industry"))))
    finds = [
        _feat({"type": "Point", "coordinates": [113.31, 23.11]}, id="f1", kind="mobile_hotspot", severity=0.8, confidence=0.7,
              enterprise_id="E1", enterprise_name=HOSTILE[0], evidence={"peak_ugm3": 412.5, "note": "<b>x</b>"},
              sources=["mobile-1"], explain_en="High NO2 downwind of <script>", explain_zh="下风向高值"),
        _feat(_poly(113.335, 23.125, 113.345, 23.133), id="f2", kind="built_up_outside_approved", severity=0.6,
              confidence=0.9, evidence={"area_ha": 3.2}, sources=[], explain_en="New buildings", explain_zh="新建筑"),
    ]
    layers.append(VectorLayer("Findings", _fc(finds), kind="findings", color_by="kind"))
    layers.append(VectorLayer("Hotspot segments", _fc([_feat({"type": "LineString", "coordinates": [[113.31, 23.105], [113.315, 23.108]]},
                                                             name="seg 1", mean=180.0)]), kind="segments"))
    layers.append(VectorLayer("Heat sources", _fc([_feat({"type": "Point", "coordinates": [113.33, 23.12]}, name="hs1", frp_mw=12.0)]),
                              kind="heat_sources"))
    t = np.linspace(0, 2 * np.pi, 300)
    v = 50 + 40 * np.exp(-((t - 2) ** 2) / 0.1)
    v[50:60] = np.nan
    layers.append(TrackLayer("NO2 track", 113.32 + 0.012 * np.cos(t), 23.115 + 0.01 * np.sin(t), v, unit="µg/m³", pollutant="NO2"))
    img = np.zeros((40, 50, 4), np.uint8)
    img[..., 0] = 200
    img[10:20, 10:30, 3] = 180
    layers.append(RasterLayer("Land-cover change", img, ((23.10, 113.30), (23.13, 113.34)), legend={"New built-up": "#c80000"}, show=True))
    b = np.zeros((30, 40, 4), np.uint8)
    b[..., 1], b[..., 3] = 150, 255
    a = b.copy()
    a[..., 0] = 180
    layers.append(RasterLayer("Before", b, ((23.10, 113.30), (23.13, 113.34)), time="2019-06-01", group="before_after", opacity=1.0, show=True))
    layers.append(RasterLayer("After", a, ((23.10, 113.30), (23.13, 113.34)), time="2024-06-01", group="before_after", opacity=1.0, show=True))
    lst = np.zeros((20, 20, 4), np.uint8)
    lst[..., 0], lst[..., 3] = 255, 120
    layers.append(RasterLayer("LST 2024-07", lst, ((23.10, 113.30), (23.13, 113.34)), time="2024-07-01", group="lst"))
    layers.append(RasterLayer("LST 2024-08", lst, ((23.10, 113.30), (23.13, 113.34)), time="2024-08-01", group="lst"))
    return layers


@pytest.fixture()
def layers() -> list[Any]:
    return make_layers()


# ---------------------------------------------------------------- Chromium over the DevTools pipe


class Chromium:
    """A headless Chromium process driven over ``--remote-debugging-pipe``."""

    def __init__(self, exe: str):
        self.tmp = tempfile.mkdtemp(prefix="ps-chromium-")
        r_child, w_parent = os.pipe()  # parent → browser (browser reads fd 3)
        r_parent, w_child = os.pipe()  # browser → parent (browser writes fd 4)

        def _fds():  # runs in the child before exec; fds 3/4 survive because they are in pass_fds
            a, b = os.dup(r_child), os.dup(w_child)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [exe, *CHROMIUM_FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self.tmp}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=_fds,
        )
        os.close(r_child)
        os.close(w_child)
        self._w = os.fdopen(w_parent, "wb", buffering=0)
        self._r = os.fdopen(r_parent, "rb", buffering=0)
        self._q: queue.Queue = queue.Queue()
        self._id = 0
        self.events: list[dict[str, Any]] = []
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        buf = b""
        while True:
            try:
                chunk = self._r.read(65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                self._q.put(json.loads(msg))
        self._q.put(None)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30.0) -> dict:
        self._id += 1
        mid = self._id
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self._w.write(json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            item = self._q.get(timeout=max(0.01, deadline - time.monotonic()))
            if item is None:
                raise RuntimeError("chromium closed the DevTools pipe")
            if item.get("id") == mid:
                if "error" in item:
                    raise RuntimeError(f"{method}: {item['error']}")
                return item.get("result", {})
            self.events.append(item)

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                item = self._q.get(timeout=left)
            except queue.Empty:
                return
            if item is None:
                return
            self.events.append(item)

    def wait_event(self, method: str, timeout: float = 20.0) -> dict | None:
        end = time.monotonic() + timeout
        for e in self.events:
            if e.get("method") == method:
                return e
        while (left := end - time.monotonic()) > 0:
            try:
                item = self._q.get(timeout=left)
            except queue.Empty:
                return None
            if item is None:
                return None
            self.events.append(item)
            if item.get("method") == method:
                return item
        return None

    def open(self, url: str, *, settle: float = 1.0) -> "Page":
        """Open ``url`` in a new tab, recording requests, console messages and exceptions."""
        self.events = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for dom in ("Network", "Runtime", "Log", "Page"):
            self.send(f"{dom}.enable", {}, sid)
        self.send("Emulation.setDeviceMetricsOverride", {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False}, sid)
        t0 = time.monotonic()
        self.send("Page.navigate", {"url": url}, sid)
        self.wait_event("Page.loadEventFired", timeout=30)
        page = Page(self, sid, time.monotonic() - t0)
        deadline = time.monotonic() + 30  # a loaded machine can be slow: wait for the document and its frames
        while time.monotonic() < deadline and not page.eval(
                "document.readyState === 'complete' && Array.from(document.querySelectorAll('iframe'))"
                ".every(f => { try { return !f.contentDocument || f.contentDocument.readyState === 'complete'; }"
                " catch (e) { return true; } })"):
            self.pump(0.1)
        page.load_seconds = time.monotonic() - t0
        self.pump(settle)
        return page

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (RuntimeError, queue.Empty, OSError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        shutil.rmtree(self.tmp, ignore_errors=True)


class Page:
    """An opened page: what it requested, what it logged, and helpers to evaluate and screenshot."""

    def __init__(self, browser: Chromium, session: str, load_seconds: float):
        self.b, self.sid, self.load_seconds = browser, session, load_seconds

    def _ev(self, method):
        return [e["params"] for e in self.b.events if e.get("method") == method and e.get("sessionId") == self.sid]

    @property
    def requests(self) -> list[str]:
        return [p["request"]["url"] for p in self._ev("Network.requestWillBeSent")]

    @property
    def external_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("file:", "data:", "blob:", "about:"))]

    @property
    def failed_requests(self) -> list[str]:
        ids = {p["requestId"]: p["request"]["url"] for p in self._ev("Network.requestWillBeSent")}
        return [ids.get(p["requestId"], "?") + " " + p.get("errorText", "") for p in self._ev("Network.loadingFailed")]

    @property
    def errors(self) -> list[str]:
        out = []
        for p in self._ev("Runtime.exceptionThrown"):
            d = p["exceptionDetails"]
            out.append("exception: " + (d.get("exception", {}).get("description") or d.get("text", "")))
        for p in self._ev("Runtime.consoleAPICalled"):
            if p["type"] in ("error", "assert"):
                out.append("console.error: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        for p in self._ev("Log.entryAdded"):
            if p["entry"]["level"] == "error":
                out.append("log: " + p["entry"]["text"] + " " + p["entry"].get("url", ""))
        return out

    @property
    def dialogs(self) -> list[str]:
        return [p.get("message", "") for p in self._ev("Page.javascriptDialogOpening")]

    def eval(self, expr: str) -> Any:
        r = self.b.send("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True}, self.sid)
        if "exceptionDetails" in r:
            raise AssertionError(f"JS error evaluating {expr!r}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def screenshot(self) -> np.ndarray:
        from PIL import Image

        data = base64.b64decode(self.b.send("Page.captureScreenshot", {"format": "png"}, self.sid)["data"])
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def pixel_stats(img: np.ndarray) -> tuple[float, int]:
    """(fraction of pixels differing from the median colour, number of distinct colours) — as checks/pngstats.py."""
    bg = np.median(img.reshape(-1, 3), axis=0)
    nonbg = float(np.mean(np.any(np.abs(img.astype(int) - bg) > 12, axis=2)))
    colours = len(np.unique(img.reshape(-1, 3)[::7], axis=0))
    return nonbg, colours


@pytest.fixture(scope="session")
def chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        pytest.skip("chromium is not installed (`make test` installs Debian's chromium via .ci/system-deps)")
    b = Chromium(exe)
    try:
        b.send("Browser.getVersion", timeout=30)
    except (RuntimeError, queue.Empty) as err:
        b.close()
        pytest.skip(f"chromium did not start in headless mode: {err}")
    yield b
    b.close()


# ---------------------------------------------------------------- a loopback XYZ tile server

TILE_RGB = (0, 190, 255)


class _Tiles(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        from PIL import Image

        type(self).hits.append(self.path)
        if not self.path.endswith(".png"):
            self.send_response(404)
            self.end_headers()
            return
        img = Image.new("RGB", (256, 256), TILE_RGB)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(buf.getvalue())

    def log_message(self, *a):
        pass


class TileServer:
    def __init__(self):
        self.handler = type("H", (_Tiles,), {"hits": []})
        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), self.handler)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"

    @property
    def hits(self) -> list[str]:
        return self.handler.hits

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture()
def tile_server():
    """Uniform-colour PNG tiles at ``{url}/{z}/{x}/{y}.png`` on loopback; ``.hits`` lists requested paths."""
    s = TileServer()
    yield s
    s.close()
