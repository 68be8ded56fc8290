"""Concentration units: ppb/ppm ↔ µg/m³ and mg/m³ per pollutant, at a stated temperature and pressure.

For an ideal gas, ``µg/m³ = ppb × M × P / (R × T)`` with M the molar mass (g/mol), P in Pa, T in K and
R = 8.314462618 J/(mol·K). At 25 °C and 101.325 kPa (the reference state of GB 3095-2012 as amended in 2018)
1 ppb of NO2 is 1.88 µg/m³.
"""
from __future__ import annotations

import numpy as np

from parkscan.aoi.errors import SourceError

__all__ = ["MOLAR_MASS", "CANONICAL_UNIT", "convert", "canonical_unit", "R"]

R = 8.314462618
"""Molar gas constant, J/(mol·K)."""

#: molar masses in g/mol (TVOC has none: it stays in the unit it was reported in, usually ppb isobutylene-equivalent)
MOLAR_MASS: dict[str, float] = {
    "benzene": 78.11, "toluene": 92.14, "xylene": 106.17, "ethylbenzene": 106.17, "styrene": 104.15,
    "hcho": 30.03, "no2": 46.0055, "no": 30.006, "nox": 46.0055, "so2": 64.066, "h2s": 34.08, "nh3": 17.031,
    "co": 28.010, "co2": 44.009, "o3": 47.997, "ch4": 16.04, "hcl": 36.46, "cl2": 70.90,
}

#: the unit each pollutant is converted to on ingest (GB 3095 style: µg/m³, CO in mg/m³; CO2/CH4 in ppm)
CANONICAL_UNIT: dict[str, str] = {
    **{k: "ug/m3" for k in MOLAR_MASS},
    "co": "mg/m3", "co2": "ppm", "ch4": "ppm",
    "pm25": "ug/m3", "pm10": "ug/m3", "pm1": "ug/m3", "tsp": "ug/m3", "bc": "ug/m3", "pn": "#/cm3",
}

_MASS = {"ng/m3": 1e-3, "ug/m3": 1.0, "mg/m3": 1e3}  # → µg/m³
_MIX = {"ppt": 1e-3, "ppb": 1.0, "ppm": 1e3}  # → ppb


def canonical_unit(pollutant: str, unit: str | None) -> str | None:
    """The unit ``pollutant`` is stored in after ingest (the input unit when no conversion applies)."""
    target = CANONICAL_UNIT.get(pollutant)
    if unit is None or target is None:
        return unit
    if unit in _MIX and target in _MASS and pollutant not in MOLAR_MASS:
        return unit
    return target


def convert(values, pollutant: str, src: str | None, dst: str | None, *, temp_c: float = 25.0, pressure_kpa: float = 101.325):
    """Convert concentrations of ``pollutant`` from unit ``src`` to ``dst``.

    Parameters
    ----------
    values : array-like or float
        Concentrations.
    pollutant : str
        Canonical pollutant name (``no2``, ``benzene``, ...), which gives the molar mass.
    src, dst : str
        Normalised units: ``ppt``, ``ppb``, ``ppm``, ``ng/m3``, ``ug/m3``, ``mg/m3`` (or anything equal).
    temp_c, pressure_kpa : float
        The state the mass concentration refers to (default 25 °C, 101.325 kPa).

    Examples
    --------
    >>> round(float(convert(1.0, "no2", "ppb", "ug/m3")), 3)
    1.881
    >>> round(float(convert(1.0, "co", "ppm", "mg/m3", temp_c=0)), 3)
    1.25
    """
    v = np.asarray(values, dtype=float)
    if src == dst or src is None or dst is None:
        return v
    if src in _MASS and dst in _MASS:
        return v * _MASS[src] / _MASS[dst]
    if src in _MIX and dst in _MIX:
        return v * _MIX[src] / _MIX[dst]
    if (src in _MIX and dst in _MASS) or (src in _MASS and dst in _MIX):
        if pollutant not in MOLAR_MASS:
            raise SourceError(
                f"cannot convert {pollutant} from {src} to {dst}: it has no single molar mass; "
                "keep its reported unit or state one in the mapping file"
            )
        if not (-60 < temp_c < 60) or not (50 < pressure_kpa < 120):
            raise SourceError(f"implausible reference state {temp_c} °C / {pressure_kpa} kPa for unit conversion")
        factor = MOLAR_MASS[pollutant] * pressure_kpa * 1e3 / (R * (temp_c + 273.15)) / 1e3  # ppb → µg/m³
        if src in _MIX:
            return v * _MIX[src] * factor / _MASS[dst]
        return v * _MASS[src] / factor / _MIX[dst]
    raise SourceError(f"cannot convert {pollutant} from {src!r} to {dst!r}")
