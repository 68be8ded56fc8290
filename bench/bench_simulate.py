"""Benchmark parkscan.sources.simulate: wall time per preset, output size, and the instrument model.

Run: ``.venv/bin/python bench/bench_simulate.py [REPEATS]``. Prints the median wall time of ``simulate()`` for each
preset (goal: small < 4 s, typical < 10 s on 2 cores), the files and bytes written, and — measured in the same run —
the vectorised instrument response (scipy ``lfilter``) against the plain Python loop it replaced.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from parkscan.sources.simulate import simulate
from parkscan.sources.simulate.mobile import _instrument


def _loop_instrument(true: np.ndarray, lag: int, tau: float) -> np.ndarray:
    x = np.r_[np.full(lag, true[0]), true[: len(true) - lag]]
    a = 1.0 - np.exp(-1.0 / tau)
    y = np.empty_like(x)
    acc = x[0]
    for i, xi in enumerate(x):
        acc += a * (xi - acc)
        y[i] = acc
    return y


def main(repeats: int = 2) -> None:
    for preset in ("small", "typical", "hard"):
        times = []
        for r in range(repeats):
            with tempfile.TemporaryDirectory() as d:
                t = time.perf_counter()
                sc = simulate(d, seed=100 + r, preset=preset)
                times.append(time.perf_counter() - t)
                files = [p for p in Path(d).rglob("*") if p.is_file()]
                size = sum(p.stat().st_size for p in files)
                rows = sum(len(p.read_bytes().splitlines()) - 1 for p in sc.mobile)
        print(f"{preset:8s} median {statistics.median(times):5.2f} s over {repeats} runs; {len(files)} files, "
              f"{size / 1e6:5.1f} MB, {rows:,} mobile rows")
    x = np.random.default_rng(0).normal(50, 5, 200_000)
    t = time.perf_counter()
    a = _instrument(x, 8, 3.0)
    t_vec = time.perf_counter() - t
    t = time.perf_counter()
    b = _loop_instrument(x, 8, 3.0)
    t_loop = time.perf_counter() - t
    assert np.allclose(a, b)
    print(f"instrument response on {len(x):,} samples: lfilter {t_vec * 1e3:.1f} ms vs Python loop {t_loop * 1e3:.1f} ms "
          f"({t_loop / t_vec:.0f}x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
