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
    """Run again through `parkscan simulate` (the CLI) and compare every file's hash."""
    from click.testing import CliRunner

    from parkscan.diagnostics.cli import cli

    time.sleep(1.1)  # a timestamp of "now" inside any file would now differ
    res = CliRunner().invoke(cli, ["simulate", "--out", str(tmp_path / "again"), "--preset", "small", "--seed", "11"])
    assert res.exit_code == 0, res.output
    assert str((tmp_path / "again").resolve()) in res.output and "enterprises" in res.output
    a, b = _hashes(small.out_dir), _hashes(tmp_path / "again")
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
