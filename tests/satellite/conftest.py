"""Fixtures for the satellite tests: small files in the real layouts and a planted scenario."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture(scope="session")
def scene(tmp_path_factory):
    """A planted scenario (park with enterprises, 12 S5P orbits, Landsat ST_B10, FIRMS CSV) and its truth."""
    from _sat_scene import write_scene

    out = tmp_path_factory.mktemp("scene")
    park, truth = write_scene(out, seed=3, n_days=12)
    return out, park, truth
