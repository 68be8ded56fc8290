"""Same seed → byte-identical files; another seed → different files."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

from parkscan.sources.simulate import simulate


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_identical_files(small, tmp_path):
    time.sleep(1.1)  # a timestamp of "now" inside any file would now differ
    again = simulate(tmp_path / "again", seed=11, preset="small")
    a, b = _hashes(small.out_dir), _hashes(again.out_dir)
    assert len(a) >= 15
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []


def test_other_seed_differs(small, tmp_path):
    other = simulate(tmp_path / "other", seed=99, preset="small")
    a, b = _hashes(small.out_dir), _hashes(other.out_dir)
    same = [k for k in a if a.get(k) == b.get(k)]
    assert same == []


def test_no_leftover_temporary_files(small):
    assert not [p for p in small.out_dir.rglob(".*") if p.is_file()]
