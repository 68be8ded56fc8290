"""WRI Global Power Plant Database rows (CSV) as an optional known-source layer.

The file is the user's (``--reference PATH``); parkscan never ships it. Both the published GPPD table
(``gppd_idnr, name, primary_fuel, capacity_mw, latitude, longitude, commissioning_year, owner``) and
the WRI China input table (``Power Plant ID, Name, Fuel, Capacity (MW), Latitude, Longitude, ...``) are read.
Cite: WRI Global Power Plant Database, CC BY 4.0.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parkscan.aoi.errors import SourceIOError

__all__ = ["read_gppd", "GPPD_ATTRIBUTION", "plants_near_park"]

log = logging.getLogger(__name__)

GPPD_ATTRIBUTION = "WRI Global Power Plant Database, CC BY 4.0"
"""Attribution to print wherever the layer is used."""

_ALIASES = {
    "plant_id": ("gppd_idnr", "power plant id", "id"),
    "name": ("name",),
    "fuel": ("primary_fuel", "fuel"),
    "capacity_mw": ("capacity_mw", "capacity (mw)"),
    "commissioning": ("commissioning_year", "commissioning date"),
    "owner": ("owner",),
    "status": ("operational status",),
    "lat": ("latitude", "lat"),
    "lon": ("longitude", "lon"),
}


def read_gppd(path: str | Path, *, fuels: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Read a GPPD-style power-plant CSV.

    Parameters
    ----------
    path : str or Path
        The CSV.
    fuels : tuple of str, optional
        Keep only these fuels (case-insensitive), e.g. ``("Coal", "Gas", "Oil")``.

    Returns
    -------
    pandas.DataFrame
        plant_id, name, fuel, capacity_mw, commissioning, owner, status, lon, lat (rows without
        coordinates dropped and counted in ``attrs['n_no_location']``).

    Raises
    ------
    SourceIOError
        Unreadable file or no name/fuel/latitude/longitude columns.

    Examples
    --------
    >>> plants = read_gppd("China.csv", fuels=("Coal",))  # doctest: +SKIP
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError as err:
        raise SourceIOError(f"{path}: no such power-plant file") from err
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise SourceIOError(f"{path}: not a readable power-plant CSV ({err})") from err
    lower = {c.strip().lower(): c for c in raw.columns}
    out: dict[str, Any] = {}
    for key, names in _ALIASES.items():
        col = next((lower[n] for n in names if n in lower), None)
        out[key] = raw[col] if col is not None else pd.Series([""] * len(raw))
    missing = [k for k in ("name", "fuel", "lat", "lon") if not any(n in lower for n in _ALIASES[k])]
    if missing:
        raise SourceIOError(
            f"{path}: not a GPPD power-plant CSV — no column for {', '.join(missing)} "
            "(expected e.g. name, primary_fuel, latitude, longitude)"
        )
    df = pd.DataFrame(out)
    for c in ("lat", "lon", "capacity_mw"):
        df[c] = pd.to_numeric(df[c].replace("", np.nan), errors="coerce")
    ok = df["lat"].between(-90, 90) & df["lon"].between(-180, 180)
    n_bad = int((~ok).sum())
    df = df[ok].reset_index(drop=True)
    if fuels:
        want = {f.lower() for f in fuels}
        df = df[df["fuel"].str.lower().isin(want)].reset_index(drop=True)
    df.attrs.update({"file": str(path), "n_no_location": n_bad, "attribution": GPPD_ATTRIBUTION})
    log.info("%s: %d plants (%d without location)", path.name, len(df), n_bad)
    return df


def plants_near_park(plants: pd.DataFrame, park: Any, *, within_m: float = 10_000.0) -> pd.DataFrame:
    """Plants inside the park footprint or within ``within_m`` metres of it, with ``distance_m`` and ``inside``."""
    if plants.empty:
        return plants.assign(distance_m=pd.Series(dtype=float), inside=pd.Series(dtype=bool))
    import shapely

    fp = park.to_local(park.footprint)
    x, y = park.lonlat_to_xy(plants["lon"].to_numpy(), plants["lat"].to_numpy())
    pts = shapely.points(x, y)
    d = shapely.distance(fp, pts)
    out = plants.assign(distance_m=d, inside=d <= 0.0)
    return out[out["distance_m"] <= within_m].sort_values("distance_m").reset_index(drop=True)
