"""NASA FIRMS active fires over a park: the area API (``MAP_KEY`` from the environment) or a local CSV.

``GET https://firms.modaps.eosdis.nasa.gov/api/area/csv/{MAP_KEY}/{SOURCE}/{west,south,east,north}/{days}/{date}``
answers a CSV of fire pixels for ``days`` days (1-5 per request) from ``date``. A longer period is
split into several requests and the rows are merged (duplicates removed). The key comes from
``FIRMS_MAP_KEY`` (or the password of the ``firms.modaps.eosdis.nasa.gov`` netrc entry); it is
registered as a secret, so it never appears in logs, errors, cache file names or the manifest.
FIRMS reports a bad key or an exhausted quota in a 200/400 text body, which is turned into an error.
"""
from __future__ import annotations

import io
import logging
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from parkscan.aoi.atomic import write_bytes
from parkscan.aoi.errors import SourceAPIError, SourceIOError

from .cache import RequestCache, request_key
from .credentials import Credentials, get_credentials
from .http import HTTPSession

__all__ = ["FIRMS_URL", "FIRMS_SOURCES", "fetch_fires", "park_bbox", "read_fires_csv"]

log = logging.getLogger(__name__)

FIRMS_URL = "https://firms.modaps.eosdis.nasa.gov/api/area/csv"
FIRMS_SOURCES = ("VIIRS_SNPP_NRT", "VIIRS_NOAA20_NRT", "VIIRS_NOAA21_NRT", "MODIS_NRT", "VIIRS_SNPP_SP", "VIIRS_NOAA20_SP",
                 "MODIS_SP", "LANDSAT_NRT")
MAX_DAYS = 5


def park_bbox(park, ring_m: float | None = None) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of the park footprint plus ring, rounded outward to 0.001°."""
    import math

    import shapely

    geom = shapely.union_all([park.footprint, park.ring(ring_m)])
    w, s, e, n = geom.bounds
    return (math.floor(w * 1000) / 1000, math.floor(s * 1000) / 1000, math.ceil(e * 1000) / 1000, math.ceil(n * 1000) / 1000)


def _check_csv(text: str, what: str) -> None:
    head = text.lstrip()[:300].lower()
    if head.startswith("latitude") or "latitude," in head.split("\n", 1)[0]:
        return
    if not head:
        return
    first = " ".join(text.strip().split())[:200]
    if "invalid" in head and "key" in head:
        raise SourceAPIError(f"firms: {what}: the MAP_KEY was rejected ({first}); check FIRMS_MAP_KEY", status_code=401)
    if "exceed" in head or "limit" in head:
        raise SourceAPIError(f"firms: {what}: the MAP_KEY's transaction limit is used up ({first}); wait 10 minutes")
    raise SourceAPIError(f"firms: {what}: the answer is not a FIRMS CSV ({first})")


def fetch_fires(park=None, *, start, end, source: str = "VIIRS_SNPP_NRT", bbox: tuple[float, float, float, float] | None = None,
                out: str | Path | None = None, base_url: str = FIRMS_URL, credentials: Credentials | None = None,
                session: HTTPSession | None = None, cache_ttl: float = 6 * 3600.0) -> pd.DataFrame:
    """Fire pixels over a park (or ``bbox``) from ``start`` to ``end`` (inclusive).

    Parameters
    ----------
    park : Park, optional
        Area = footprint + ring (or give ``bbox``).
    start, end : str or date
        ``YYYY-MM-DD``.
    source : str, default "VIIRS_SNPP_NRT"
        One of :data:`FIRMS_SOURCES`.
    out : path, optional
        Write the merged CSV there (atomically).
    cache_ttl : float, default 6 h
        Answers are cached on disk (key without the MAP_KEY); NRT data change within hours.

    Returns
    -------
    pandas.DataFrame
        FIRMS columns as published, one row per fire pixel; attrs ``urls`` (without the key).
    """
    if source not in FIRMS_SOURCES:
        raise SourceAPIError(f"firms: unknown source {source!r}; use one of {', '.join(FIRMS_SOURCES)}")
    a, b = date.fromisoformat(str(start)[:10]), date.fromisoformat(str(end)[:10])
    if b < a:
        raise SourceAPIError(f"firms: the period {a}..{b} is empty")
    if bbox is None:
        if park is None:
            raise ValueError("give a park or a bbox")
        bbox = park_bbox(park)
    cred = credentials or get_credentials("firms")
    http = session or HTTPSession("firms")
    cache = RequestCache("firms") if cache_ttl > 0 else None
    area = ",".join(f"{v:g}" for v in bbox)
    frames, urls = [], []
    day = a
    while day <= b:
        n = min(MAX_DAYS, (b - day).days + 1)
        public = f"{base_url}/MAP_KEY/{source}/{area}/{n}/{day.isoformat()}"
        key = request_key("GET", public)
        hit = cache.get(key, max_age=cache_ttl) if cache else None
        if hit is not None:
            text = hit.path.read_text(encoding="utf-8")
        else:
            url = f"{base_url}/{cred.password}/{source}/{area}/{n}/{day.isoformat()}"
            resp = http.get(url, ok=(400,))
            text = resp.text
            _check_csv(text, f"{source} {day}+{n}d")
            if resp.status_code == 400:
                raise SourceAPIError(f"firms: bad request for {source} {area} {day}: {' '.join(text.split())[:200]}", status_code=400)
            if cache is not None:
                cache.put(key, text.encode("utf-8"), url=public, source=source)
        _check_csv(text, f"{source} {day}+{n}d")
        urls.append(public)
        if text.strip():
            frames.append(pd.read_csv(io.StringIO(text)))
        day += timedelta(days=n)
    df = pd.concat(frames, ignore_index=True).drop_duplicates() if frames else pd.DataFrame(
        columns=["latitude", "longitude", "acq_date", "acq_time", "frp"])
    df.attrs["urls"] = urls
    log.info("firms: %d fire pixel(s) from %s over %s", len(df), source, area)
    if out is not None:
        write_bytes(out, df.to_csv(index=False).encode("utf-8"))
    return df


def read_fires_csv(path: str | Path) -> pd.DataFrame:
    """A FIRMS CSV the user already has (checked for the FIRMS columns)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise SourceIOError(f"{p}: cannot read the FIRMS CSV ({err.strerror})") from err
    _check_csv(text, str(p))
    df = pd.read_csv(io.StringIO(text))
    missing = [c for c in ("latitude", "longitude", "acq_date") if c not in df.columns]
    if missing:
        raise SourceIOError(f"{p}: not a FIRMS CSV, missing column(s) {missing}")
    return df
