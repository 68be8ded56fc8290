"""parkscan.aoi: the park — boundaries, enterprises, datums, metric grids, and the shared errors and options."""
from .errors import AOIError, ParkscanError, ParkscanWarning
from .park import GridSpec, Park, SubPark

__all__ = ["AOIError", "GridSpec", "Park", "ParkscanError", "ParkscanWarning", "SubPark"]
