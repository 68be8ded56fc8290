"""parkscan.aoi: the park — boundaries, enterprises, datums, metric grids, and the shared errors and options."""
from .errors import AOIError, ParkscanError, ParkscanWarning
from .park import GridSpec, Park, SubPark

__all__ = [
    "AOIError", "GridSpec", "Park", "ParkscanError", "ParkscanWarning", "SubPark",
    "read_park", "read_parks", "read_enterprises", "boundary_indicators", "convert", "in_mainland_china",
]

# readers pull in geopandas/pyogrio: import them on first use so `import parkscan.aoi` stays light
_LAZY = {
    "read_park": "boundaries", "read_parks": "boundaries", "read_enterprises": "enterprises",
    "boundary_indicators": "indicators", "convert": "datum", "in_mainland_china": "outline",
}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
