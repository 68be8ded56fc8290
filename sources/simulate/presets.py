"""Scenario presets: how hard the simulated park is to screen."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Preset", "PRESETS", "get_preset"]


@dataclass(frozen=True)
class Preset:
    """Knobs that set the difficulty of a scenario."""

    name: str
    """Preset name (small | typical | hard)."""
    n_enterprises: int
    """Number of enterprises (15–40)."""
    subparks: bool
    """Whether the approved boundary has two sub-parks."""
    n_sources: int
    """Number of leaking enterprises (3–5)."""
    rate_scale: float
    """Multiplier of the emission rates of leaking enterprises (weaker sources → harder)."""
    n_days: int
    """Days of 走航 mobile monitoring."""
    n_passes: int
    """Passes over the whole road network, spread over the days."""
    noise_scale: float
    """Multiplier of instrument noise."""
    gps_sigma_m: float
    """GPS noise (metres, 1 sigma per axis)."""
    mobile_datum: str
    """Datum of the mobile files (``wgs84`` or ``gcj02``)."""
    faults: tuple[str, ...]
    """Realistic file faults planted into the mobile files."""
    cloud_cover: float
    """Fraction of the image covered by clouds (per date)."""
    n_no2_days: int
    """Number of Sentinel-5P NO2 files."""
    no2_rate_kg_s: float
    """Park NOx emission (as NO2) in kg/s for the NO2 column plume."""
    no2_noise: float
    """S5P NO2 single-pixel noise, mol m-2."""
    so2_rate_kg_s: float
    """SO2 emission of the park's combustion sources, kg/s (TROPOMI detection limit ≈ 8 kt/yr ≈ 0.25 kg/s)."""
    hot_roof_dk: float
    """Temperature excess of hot roofs (K)."""
    fire_days: int
    """Days spanned by the VIIRS fire record."""
    ring_m: float
    """Width of the ring around the park covered by imagery (m)."""


PRESETS: dict[str, Preset] = {
    "small": Preset(
        name="small", n_enterprises=16, subparks=False, n_sources=3, rate_scale=1.5, n_days=2, n_passes=4,
        noise_scale=0.7, gps_sigma_m=3.0, mobile_datum="wgs84", faults=("duplicate_time",), cloud_cover=0.01,
        n_no2_days=5, no2_rate_kg_s=0.35, no2_noise=1.0e-5, so2_rate_kg_s=0.35, hot_roof_dk=12.0, fire_days=120, ring_m=1000.0,
    ),
    "typical": Preset(
        name="typical", n_enterprises=28, subparks=True, n_sources=4, rate_scale=1.0, n_days=3, n_passes=6,
        noise_scale=1.0, gps_sigma_m=4.0, mobile_datum="wgs84", faults=("duplicate_time", "stationary_stop"),
        cloud_cover=0.03, n_no2_days=8, no2_rate_kg_s=0.2, no2_noise=1.5e-5, so2_rate_kg_s=0.12, hot_roof_dk=9.0, fire_days=180,
        ring_m=1500.0,
    ),
    "hard": Preset(
        name="hard", n_enterprises=36, subparks=True, n_sources=5, rate_scale=0.45, n_days=3, n_passes=3,
        noise_scale=2.0, gps_sigma_m=5.0, mobile_datum="gcj02",
        faults=("duplicate_time", "gps_jump", "negative_value", "stationary_stop"), cloud_cover=0.08,
        n_no2_days=6, no2_rate_kg_s=0.08, no2_noise=2.5e-5, so2_rate_kg_s=0.06, hot_roof_dk=5.0, fire_days=180, ring_m=1500.0,
    ),
}


def get_preset(name: str) -> Preset:
    """Return the preset called ``name``.

    Raises
    ------
    ValueError
        If there is no such preset.
    """
    try:
        return PRESETS[name]
    except KeyError as err:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from err
