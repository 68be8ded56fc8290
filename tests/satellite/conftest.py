"""Fixtures for the satellite tests: real S5P headers, small files in the real layouts, a planted scenario."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

SHARED = HERE.parents[1].parent / "shared" / "data"
NO2_HEADER = "S5P_OFFL_L2__NO2____20200303T013547_20200303T031717_12367_01_010302_20200306T053815.nc"
SO2_HEADER = "S5P_OFFL_L2__SO2____20200303T013547_20200303T031717_12367_01_010107_20200306T144427.nc"
GPPD_CHINA = ("gppd-china-power-plants", "China.csv")


def real(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real data {p} is absent (../shared/data is not next to this checkout)")
    return p


@pytest.fixture(scope="session")
def scene(tmp_path_factory):
    """A planted scenario (park with enterprises, 12 S5P orbits, Landsat ST_B10, FIRMS CSV) and its truth."""
    from _scene import write_scene

    out = tmp_path_factory.mktemp("scene")
    park, truth = write_scene(out, seed=3, n_days=12)
    return out, park, truth
