"""Gaussian plume model with Pasquill–Gifford stability classes (ground-level receptors).

Concentration of a continuous point source of rate ``Q`` (g/s) at effective height ``H`` (m) in a wind ``u`` (m/s),
with total ground reflection, at receptor height ``z`` (m)::

    C = Q / (2π u σy σz) · exp(−y² / 2σy²) · [exp(−(z−H)² / 2σz²) + exp(−(z+H)² / 2σz²)]

σy(x), σz(x) follow the Briggs (1973) formulas for open-country (rural) or urban conditions, as tabulated in
Turner's Workbook of Atmospheric Dispersion Estimates and the ISC/ADMS manuals. Upwind receptors get zero.
"""
from __future__ import annotations

import numpy as np

__all__ = ["sigmas", "plume_concentration", "wind_vector", "STABILITY_CLASSES", "ppb_from_ugm3"]

STABILITY_CLASSES = ("A", "B", "C", "D", "E", "F")

# Briggs (1973) coefficients: sigma = a x (1 + b x)^c
_RURAL_Y = {"A": (0.22, 0.0001, -0.5), "B": (0.16, 0.0001, -0.5), "C": (0.11, 0.0001, -0.5),
            "D": (0.08, 0.0001, -0.5), "E": (0.06, 0.0001, -0.5), "F": (0.04, 0.0001, -0.5)}
_RURAL_Z = {"A": (0.20, 0.0, 1.0), "B": (0.12, 0.0, 1.0), "C": (0.08, 0.0002, -0.5),
            "D": (0.06, 0.0015, -0.5), "E": (0.03, 0.0003, -1.0), "F": (0.016, 0.0003, -1.0)}
_URBAN_Y = {"A": (0.32, 0.0004, -0.5), "B": (0.32, 0.0004, -0.5), "C": (0.22, 0.0004, -0.5),
            "D": (0.16, 0.0004, -0.5), "E": (0.11, 0.0004, -0.5), "F": (0.11, 0.0004, -0.5)}
_URBAN_Z = {"A": (0.24, 0.001, 0.5), "B": (0.24, 0.001, 0.5), "C": (0.20, 0.0, 1.0),
            "D": (0.14, 0.0003, -0.5), "E": (0.08, 0.0015, -0.5), "F": (0.08, 0.0015, -0.5)}

#: molar masses (g/mol) used for ppb ↔ µg/m³ (TVOC as isobutylene, the usual PID calibration gas)
MOLAR_MASS = {"TVOC": 56.11, "苯": 78.11, "甲苯": 92.14, "二甲苯": 106.17, "NO2": 46.01, "SO2": 64.07, "H2S": 34.08,
              "NH3": 17.03}


def sigmas(x: np.ndarray, stability: str, *, urban: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Briggs σy, σz (m) at downwind distance ``x`` (m, clipped to ≥ 1 m)."""
    x = np.maximum(np.asarray(x, float), 1.0)
    ty, tz = (_URBAN_Y, _URBAN_Z) if urban else (_RURAL_Y, _RURAL_Z)
    ay, by, cy = ty[stability]
    az, bz, cz = tz[stability]
    return ay * x * (1 + by * x) ** cy, az * x * (1 + bz * x) ** cz


def wind_vector(from_deg: float, speed: float) -> tuple[float, float]:
    """(east, north) components of the air motion for a meteorological wind direction (blowing FROM)."""
    a = np.radians(from_deg)
    return -speed * np.sin(a), -speed * np.cos(a)


def plume_concentration(rx: np.ndarray, ry: np.ndarray, sx: float, sy: float, q_gs: float, *, from_deg: float,
                        speed: float, stability: str, height: float = 10.0, z: float = 2.0, urban: bool = True
                        ) -> np.ndarray:
    """Concentration (µg/m³) at receptors (rx, ry) in metres from a source at (sx, sy).

    Examples
    --------
    >>> import numpy as np
    >>> c = plume_concentration(np.array([0.0, 0.0]), np.array([-200.0, 200.0]), 0, 0, 1.0,
    ...                         from_deg=0, speed=3, stability="D")
    >>> bool(c[0] > 0 and c[1] == 0)   # wind from the north: the south receptor sees the plume
    True
    """
    ue, un = wind_vector(from_deg, 1.0)
    dx, dy = np.asarray(rx, float) - sx, np.asarray(ry, float) - sy
    xd = dx * ue + dy * un  # downwind distance
    yc = -dx * un + dy * ue  # crosswind distance
    sy_, sz_ = sigmas(xd, stability, urban=urban)
    u = np.maximum(np.asarray(speed, float), 0.5)
    c = q_gs / (2 * np.pi * u * sy_ * sz_) * np.exp(-0.5 * (yc / sy_) ** 2) * (
        np.exp(-0.5 * ((z - height) / sz_) ** 2) + np.exp(-0.5 * ((z + height) / sz_) ** 2))
    return np.where(xd > 1.0, c * 1e6, 0.0)


def ppb_from_ugm3(ugm3: np.ndarray, pollutant: str, *, temp_c: float = 25.0, pressure_kpa: float = 101.325) -> np.ndarray:
    """µg/m³ → ppb for a gas at the given temperature and pressure (molar volume 24.45 L at 25 °C, 1 atm)."""
    vm = 22.414 * (273.15 + temp_c) / 273.15 * 101.325 / pressure_kpa
    return np.asarray(ugm3) * vm / MOLAR_MASS[pollutant]
