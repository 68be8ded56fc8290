"""Package-wide settings, validated, usable as a context manager (like ``xarray.set_options``)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["OPTIONS", "set_options", "get_options", "cache_dir"]

OPTIONS: dict[str, Any] = {
    "ring_m": 3000.0,
    "grid_m": 30.0,
    "max_park_km2": 2000.0,
    "http_timeout": 30.0,
    "http_retries": 4,
    "http_backoff": 1.0,
    "cache_dir": None,
}

_VALIDATORS = {
    "ring_m": lambda v: isinstance(v, (int, float)) and 0 < v <= 50_000,
    "grid_m": lambda v: isinstance(v, (int, float)) and 1 <= v <= 5000,
    "max_park_km2": lambda v: isinstance(v, (int, float)) and v > 0,
    "http_timeout": lambda v: isinstance(v, (int, float)) and v > 0,
    "http_retries": lambda v: isinstance(v, int) and 0 <= v <= 20,
    "http_backoff": lambda v: isinstance(v, (int, float)) and 0 <= v <= 600,
    "cache_dir": lambda v: v is None or isinstance(v, (str, os.PathLike)),
}


class set_options:
    """Set options globally or, used with ``with``, for a block.

    Examples
    --------
    >>> from parkscan.aoi.options import set_options, OPTIONS
    >>> with set_options(ring_m=5000):
    ...     OPTIONS["ring_m"]
    5000
    """

    def __init__(self, **kwargs: Any):
        self.old: dict[str, Any] = {}
        for k, v in kwargs.items():
            if k not in OPTIONS:
                raise ValueError(f"unknown option {k!r}; valid options are {sorted(OPTIONS)}")
            if not _VALIDATORS[k](v):
                raise ValueError(f"option {k!r} got an invalid value {v!r}")
            self.old[k] = OPTIONS[k]
        OPTIONS.update(kwargs)

    def __enter__(self) -> "set_options":
        return self

    def __exit__(self, *exc) -> None:
        OPTIONS.update(self.old)


def get_options() -> dict[str, Any]:
    """A copy of the current options."""
    return dict(OPTIONS)


def cache_dir() -> Path:
    """The on-disk cache: option ``cache_dir``, else ``$PARKSCAN_CACHE``, else ``~/.cache/parkscan``."""
    d = OPTIONS["cache_dir"] or os.environ.get("PARKSCAN_CACHE") or Path.home() / ".cache" / "parkscan"
    return Path(d)
