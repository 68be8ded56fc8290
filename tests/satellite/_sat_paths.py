"""Real data used by the satellite tests (../shared/data), skipped with a reason when absent."""
from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
NO2_HEADER = "S5P_OFFL_L2__NO2____20200303T013547_20200303T031717_12367_01_010302_20200306T053815.nc"
SO2_HEADER = "S5P_OFFL_L2__SO2____20200303T013547_20200303T031717_12367_01_010107_20200306T144427.nc"
GPPD_CHINA = ("gppd-china-power-plants", "China.csv")


def real(*parts: str) -> Path:
    """Path of a real shared file; skips the test when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real data {p} is absent (../shared/data is not next to this checkout)")
    return p
