"""走航 mobile-monitoring runs: a van drives the park's roads at ~1 Hz through Gaussian plumes of leaking enterprises.

The true state (van position, concentrations) is simulated first; then the instruments are applied — GPS noise,
instrument lag and first-order response, noise, background drift — and the result is written as vendor-like CSV
files (UTF-8 with BOM, Chinese headers, one file per day, local time Asia/Shanghai), optionally in GCJ-02 with a
few realistic file faults.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from scipy.signal import lfilter
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from parkscan.aoi.atomic import write_bytes

from .plume import plume_concentration, ppb_from_ugm3
from .presets import Preset
from .scene import Scene

__all__ = ["POLLUTANTS", "COLUMNS", "SOURCE_PROFILES", "choose_sources", "simulate_mobile", "MOBILE_DAYS"]

#: pollutant → (CSV header, unit, background level, noise sd at noise_scale 1, lag s, response time constant s)
POLLUTANTS: dict[str, tuple[str, str, float, float, int, float]] = {
    "TVOC": ("TVOC(ppb)", "ppb", 45.0, 4.0, 8, 3.0),
    "苯": ("苯(ppb)", "ppb", 0.6, 0.15, 8, 3.0),
    "甲苯": ("甲苯(ppb)", "ppb", 1.8, 0.3, 8, 3.0),
    "二甲苯": ("二甲苯(ppb)", "ppb", 0.9, 0.2, 8, 3.0),
    "PM2.5": ("PM2.5(μg/m³)", "ug/m3", 32.0, 3.0, 3, 1.0),
    "NO2": ("NO2(ppb)", "ppb", 18.0, 2.0, 15, 6.0),
    "SO2": ("SO2(ppb)", "ppb", 4.0, 1.0, 15, 6.0),
}
COLUMNS = ["采样时间", "经度", "纬度"] + [v[0] for v in POLLUTANTS.values()] + ["风向(°)", "风速(m/s)", "车速(km/h)"]

#: industry → (effective release height m, {pollutant: g/s at rate_scale 1})
SOURCE_PROFILES: dict[str, tuple[float, dict[str, float]]] = {
    "涂装": (8.0, {"TVOC": 2.0, "甲苯": 0.6, "二甲苯": 0.8, "苯": 0.02}),
    "化工": (12.0, {"TVOC": 2.5, "苯": 0.4, "甲苯": 0.3}),
    "热电": (45.0, {"SO2": 8.0, "NO2": 6.0, "PM2.5": 2.0}),
    "制药": (10.0, {"TVOC": 1.2, "甲苯": 0.3}),
    "印刷": (8.0, {"TVOC": 1.5, "甲苯": 0.4}),
    "纺织": (8.0, {"TVOC": 0.6}),
    "钢铁": (30.0, {"PM2.5": 4.0, "SO2": 3.0, "NO2": 2.0}),
    "金属/电镀": (8.0, {"PM2.5": 0.8, "SO2": 0.4}),
    "电子": (8.0, {"TVOC": 0.5}),
}
_PRIORITY = ["涂装", "化工", "热电", "制药", "印刷", "钢铁", "纺织", "金属/电镀", "电子"]
MOBILE_DAYS = ("2025-06-10", "2025-06-11", "2025-06-12")
_START_HOURS = (9.0, 13.5, 15.5)


@dataclass
class Source:
    """A true leaking enterprise."""

    enterprise_id: str
    name: str
    industry: str
    x: float
    y: float
    height_m: float
    rates_gs: dict[str, float]


def choose_sources(scene: Scene, preset: Preset, rng: np.random.Generator) -> list[Source]:
    """Pick the leaking enterprises, industries in priority order (coating and chemicals first)."""
    by_ind: dict[str, list] = {}
    for e in scene.enterprises:
        by_ind.setdefault(e.industry, []).append(e)
    picked = []
    for ind in _PRIORITY:
        for e in by_ind.get(ind, [])[:1]:
            picked.append(e)
    picked = picked[: preset.n_sources]
    out = []
    for e in picked:
        h, rates = SOURCE_PROFILES[e.industry]
        k = preset.rate_scale * rng.uniform(0.7, 1.3)
        roof = max(e.roofs, key=lambda p: p.area).centroid
        out.append(Source(e.enterprise_id, e.name, e.industry, float(roof.x), float(roof.y), h,
                          {p: round(r * k, 3) for p, r in rates.items()}))
    return out


def _route(scene: Scene, rng: np.random.Generator) -> np.ndarray:
    """Node sequence of one pass covering every road edge (greedy: nearest untraversed edge next)."""
    n = len(scene.nodes)
    a = np.array([e[0] for e in scene.edges]); b = np.array([e[1] for e in scene.edges])
    length = np.hypot(*(scene.nodes[a] - scene.nodes[b]).T)
    g = csr_matrix((np.r_[length, length], (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    dist, pred = dijkstra(g, return_predecessors=True)
    todo = set(range(len(scene.edges)))
    cur = int(rng.choice(np.unique(np.r_[a, b])))
    seq = [cur]
    while todo:
        best = min(todo, key=lambda k: min(dist[cur, a[k]], dist[cur, b[k]]))
        start, end = (a[best], b[best]) if dist[cur, a[best]] <= dist[cur, b[best]] else (b[best], a[best])
        path = []
        node = start
        while node != cur and node >= 0:
            path.append(int(node))
            node = pred[cur, node]
        seq.extend(reversed(path))
        seq.append(int(end))
        todo.discard(best)
        cur = int(end)
        # edges traversed on the way count as driven too
        for u, v in zip(seq[-len(path) - 2:-1], seq[-len(path) - 1:]):
            for k in list(todo):
                if {a[k], b[k]} == {u, v}:
                    todo.discard(k)
    return np.array(seq)


def _drive(scene: Scene, seq: np.ndarray, rng: np.random.Generator, stop_s: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Positions (t, 2) at 1 Hz and speeds (m/s) along the node sequence; slower near intersections."""
    pts = scene.nodes[seq]
    seg = np.hypot(*np.diff(pts, axis=0).T)
    keep = np.r_[True, seg > 0.1]
    pts = pts[keep]
    cum = np.r_[0.0, np.cumsum(np.hypot(*np.diff(pts, axis=0).T))]
    total = cum[-1]
    s, pos, speeds = 0.0, [], []
    base = rng.uniform(7.0, 9.5)  # m/s, 25–34 km/h
    v = base
    stop_at = total * rng.uniform(0.3, 0.7) if stop_s else -1.0
    stopped = 0
    while s < total:
        k = int(np.searchsorted(cum, s, side="right")) - 1
        k = min(k, len(cum) - 2)
        frac = (s - cum[k]) / max(cum[k + 1] - cum[k], 1e-9)
        p = pts[k] + frac * (pts[k + 1] - pts[k])
        d_node = min(s - cum[k], cum[k + 1] - s)
        target = base if d_node > 40 else max(3.5, base * d_node / 40)
        v = float(np.clip(v + 0.3 * (target - v) + rng.normal(0, 0.4), 0.0, 11.1))
        if stop_at >= 0 and s >= stop_at and stopped < stop_s:
            v = 0.0
            stopped += 1
        pos.append(p)
        speeds.append(v)
        s += v
    return np.array(pos), np.array(speeds)


def _ar1(rng: np.random.Generator, n: int, sigma: float, phi: float) -> np.ndarray:
    """A stationary AR(1) series with standard deviation ``sigma`` and lag-1 correlation ``phi``."""
    e = rng.normal(0, sigma * np.sqrt(1 - phi**2), n)
    return lfilter([1.0], [1.0, -phi], e, zi=[phi * rng.normal(0, sigma)])[0]


def _instrument(true: np.ndarray, lag: int, tau: float) -> np.ndarray:
    """Delay by ``lag`` samples and smooth with a first-order response of time constant ``tau`` s."""
    x = np.r_[np.full(lag, true[0]), true[: len(true) - lag]] if lag else true.copy()
    if tau > 0:
        a = 1.0 - np.exp(-1.0 / tau)
        return lfilter([a], [1.0, -(1.0 - a)], x, zi=[(1.0 - a) * x[0]])[0]
    return x


#: pollutant → (low, high) peak excess of a passing diesel truck's exhaust plume
_TRAFFIC = {"NO2": (15.0, 60.0), "PM2.5": (15.0, 50.0), "TVOC": (5.0, 20.0)}


def _traffic_spikes(rng: np.random.Generator, n: int, times: list) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Short exhaust spikes from other vehicles: not sources, but they look like peaks in a single pass."""
    add = {p: np.zeros(n) for p in _TRAFFIC}
    rec = []
    for _ in range(int(rng.poisson(4))):
        i = int(rng.integers(0, max(n - 30, 1)))
        dur = int(rng.integers(5, 20))
        shape = np.interp(np.arange(dur), [0, dur // 3, dur - 1], [0.3, 1.0, 0.0])
        amp = {p: float(rng.uniform(*r)) for p, r in _TRAFFIC.items()}
        for p in _TRAFFIC:
            add[p][i:i + dur] += amp[p] * shape[: n - i]
        rec.append({"time": times[i].isoformat(), "duration_s": dur, "peak": {k: round(v, 1) for k, v in amp.items()}})
    return add, rec


def simulate_mobile(out_dir: Path, scene: Scene, sources: list[Source], preset: Preset, rng: np.random.Generator
                    ) -> tuple[list[str], dict]:
    """Simulate the campaign and write one CSV per day under ``out_dir/mobile``.

    Returns the relative file names and the truth record (passes with wind, sources, instrument settings, faults).
    """
    from parkscan.aoi.datum import convert

    days = MOBILE_DAYS[: preset.n_days]
    per_day = [preset.n_passes // len(days) + (1 if i < preset.n_passes % len(days) else 0) for i in range(len(days))]
    rows_by_day: dict[str, list[list]] = {d: [] for d in days}
    passes, faults = [], []
    stop_pass = 0 if "stationary_stop" in preset.faults else -1
    for di, day in enumerate(days):
        for pi in range(per_day[di]):
            k = len(passes)
            from_deg = float((135 + rng.normal(0, 35)) % 360)
            speed = float(np.clip(rng.normal(3.0, 1.0), 1.2, 6.0))
            stab = "B" if speed < 2 else ("C" if speed < 3.2 else "D")
            seq = _route(scene, rng)
            xy, v = _drive(scene, seq, rng, stop_s=90 if k == stop_pass else 0)
            n = len(xy)
            t0 = datetime.fromisoformat(day) + timedelta(hours=_START_HOURS[pi % 3], minutes=int(rng.integers(0, 20)))
            times = [t0 + timedelta(seconds=i) for i in range(n)]
            # the true wind meanders around the pass mean; the van's anemometer reads it with noise
            wd_true = from_deg + _ar1(rng, n, 10.0, 0.998)
            ws_true = np.clip(speed * (1 + _ar1(rng, n, 0.12, 0.995)), 0.5, None)
            spikes, spike_rec = _traffic_spikes(rng, n, times)
            rec = {}
            for pol, (_, unit, bg, sd, lag, tau) in POLLUTANTS.items():
                drift = bg * (1 + 0.12 * np.sin(np.linspace(0, np.pi * rng.uniform(0.5, 2), n) + rng.uniform(0, 6)))
                drift += _ar1(rng, n, 0.05 * bg, 0.995)
                conc = np.zeros(n)
                for s in sources:
                    if pol in s.rates_gs:
                        c = plume_concentration(xy[:, 0], xy[:, 1], s.x, s.y, s.rates_gs[pol], from_deg=wd_true,
                                                speed=ws_true, stability=stab, height=s.height_m)
                        conc += c if unit != "ppb" else ppb_from_ugm3(c, pol)
                conc += spikes.get(pol, 0.0)
                meas = _instrument(drift + conc, lag, tau)
                meas = meas + rng.normal(0, sd * preset.noise_scale, n) + rng.normal(0, 0.02, n) * meas
                rec[pol] = np.round(np.maximum(meas, 0.0), 1)  # analysers clamp at zero
            gx = _ar1(rng, n, preset.gps_sigma_m, 0.9)
            gy = _ar1(rng, n, preset.gps_sigma_m, 0.9)
            lon, lat = scene.lonlat(xy[:, 0] + gx, xy[:, 1] + gy)
            if preset.mobile_datum == "gcj02":
                lon, lat = convert(lon, lat, "wgs84", "gcj02")
            wd = (wd_true + rng.normal(0, 12, n)) % 360
            ws = np.clip(ws_true + rng.normal(0, 0.4, n), 0, None)
            for i in range(n):
                rows_by_day[day].append([times[i].strftime("%Y-%m-%d %H:%M:%S"), f"{lon[i]:.6f}", f"{lat[i]:.6f}",
                                         *(f"{rec[p][i]:.1f}" for p in POLLUTANTS), f"{wd[i]:.0f}", f"{ws[i]:.1f}",
                                         f"{v[i] * 3.6:.1f}"])
            passes.append({"pass": k + 1, "day": day, "start": times[0].isoformat(), "end": times[-1].isoformat(),
                           "n_points": n, "wind_from_deg": round(from_deg, 1), "wind_speed_ms": round(speed, 2),
                           "stability": stab, "length_km": round(float(np.sum(v)) / 1000, 2),
                           "traffic_spikes": spike_rec})
    files = []
    for day in days:
        rows = rows_by_day[day]
        fname = f"走航_{day.replace('-', '')}.csv"
        if day == days[0]:
            rows, faults = _plant_faults(rows, preset, rng, fname)
        buf = io.StringIO(newline="")
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(COLUMNS)
        w.writerows(rows)
        write_bytes(out_dir / "mobile" / fname, b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
        files.append(f"mobile/{fname}")
    truth = {
        "days": list(days), "timezone": "Asia/Shanghai", "datum": preset.mobile_datum, "passes": passes,
        "instrument": {p: {"column": c, "unit": u, "background": bg, "noise_sd": round(sd * preset.noise_scale, 3),
                           "lag_s": lag, "response_tau_s": tau} for p, (c, u, bg, sd, lag, tau) in POLLUTANTS.items()},
        "gps_sigma_m": preset.gps_sigma_m, "faults": faults,
    }
    return files, truth


def _plant_faults(rows: list[list], preset: Preset, rng: np.random.Generator, fname: str) -> tuple[list[list], list]:
    """Plant realistic file faults (recorded in truth); the stationary stop is planted in the drive itself."""
    faults = []
    rows = [list(r) for r in rows]
    n = len(rows)
    if "stationary_stop" in preset.faults:
        faults.append({"file": fname, "kind": "stationary_stop", "duration_s": 90, "pass": 1})
    if "gps_jump" in preset.faults:
        i = int(rng.integers(n // 4, n // 2))
        for j in range(i, i + 3):
            rows[j][1] = f"{float(rows[j][1]) + 0.025:.6f}"
        faults.append({"file": fname, "kind": "gps_jump", "time": rows[i][0], "rows": 3, "offset_deg_lon": 0.025})
    if "negative_value" in preset.faults:
        i = int(rng.integers(n // 2, 3 * n // 4))
        col = COLUMNS.index("SO2(ppb)")
        for j in range(i, i + 5):
            rows[j][col] = f"{-abs(float(rows[j][col])) - 1.5:.1f}"
        faults.append({"file": fname, "kind": "negative_value", "time": rows[i][0], "rows": 5, "column": "SO2(ppb)"})
    if "duplicate_time" in preset.faults:
        i = int(rng.integers(n // 8, n // 4))
        dup = list(rows[i])
        rows.insert(i + 1, dup)
        faults.append({"file": fname, "kind": "duplicate_time", "time": dup[0], "rows": 2})
    return rows, faults
