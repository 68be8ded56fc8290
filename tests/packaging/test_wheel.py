"""The wheel builds, installs into a fresh venv and works from another directory."""
from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    # build from a copy so that setuptools' build/ folder never lands in (or leaks stale files from) the checkout
    src = tmp_path_factory.mktemp("src") / "parkscan"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "out", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis"))
    # offline build: the test venv already has setuptools/wheel (no build isolation downloads)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(src)],
                   check=True, capture_output=True, text=True)
    (whl,) = dist.glob("parkscan-*.whl")
    return whl


def test_wheel_contains_every_subpackage_and_package_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for pkg in ("aoi", "sources", "models", "diagnostics", "diagnostics/cli", "maps", "sources/simulate", "sources/mobile",
                "sources/remote", "sources/readers", "models/mobile", "models/landcover", "models/satellite"):
        assert f"parkscan/{pkg}/__init__.py" in names, pkg
    assert "parkscan/py.typed" in names
    assert not any(n.startswith(("tests/", "bench/", "parkscan/tests")) for n in names)


@pytest.mark.slow
def test_wheel_installs_in_fresh_venv_and_runs_from_elsewhere(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    # dependencies come from the test venv (no network): expose its site-packages after the fresh one
    site = Path(sysconfig.get_paths()["purelib"])
    fresh_site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                     check=True, capture_output=True, text=True).stdout.strip())
    (fresh_site / "zz_deps.pth").write_text(str(site) + "\n")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True, text=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = subprocess.run([str(env_dir / "bin" / "parkscan"), "--help"], cwd=elsewhere, capture_output=True, text=True, check=True)
    commands = r.stdout.split("Commands:")[1].split()
    for name in ("demo", "simulate", "screen", "fetch", "mobile", "landcover", "batch", "map"):
        assert name in commands, f"`parkscan {name}` missing from the installed wheel's --help"
    r = subprocess.run([str(py), "-c", "import parkscan, parkscan.aoi, parkscan.diagnostics.findings as f; print(parkscan.__file__)"],
                       cwd=elsewhere, capture_output=True, text=True, check=True)
    assert str(fresh_site) in r.stdout, r.stdout  # the installed wheel, not the source tree
