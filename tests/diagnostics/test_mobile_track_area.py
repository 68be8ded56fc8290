"""`parkscan mobile` without --park derives the area from the track: it needs at least one valid fix."""
from __future__ import annotations

import pandas as pd
import pytest

from parkscan.aoi.errors import SourceError
from parkscan.diagnostics.cli.mobile import track_park


def test_track_area_needs_a_valid_fix():
    class Run:
        points = pd.DataFrame({"lon": [120.0, 120.1], "lat": [31.0, 31.1], "valid": [False, False]})

    with pytest.raises(SourceError, match="drive1: no valid GPS fix"):
        track_park(Run(), name="drive1")


def test_track_area_covers_the_valid_fixes():
    class Run:
        points = pd.DataFrame({"lon": [120.0, 120.01, 125.0], "lat": [31.0, 31.01, 35.0], "valid": [True, True, False]})

    park = track_park(Run(), buffer_m=300.0)
    assert 30 < park.area_ha()["approved"] < 200  # hull of two fixes 1.5 km apart plus 300 m, not reaching the invalid one
