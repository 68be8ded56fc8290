"""Paths of the real shared data used by the remote tests (empty when ../shared/data is absent)."""
from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
STAC_CASSETTES = SHARED / "stac-api-cassettes"
DHUS_CASSETTES = SHARED / "sentinelsat-dhus-cassettes"


def s5p_files() -> list[Path]:
    d = SHARED / "s5p-l2-headers"
    return sorted(d.glob("*.nc")) if d.exists() else []
