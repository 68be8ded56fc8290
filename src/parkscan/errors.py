"""Re-export of :mod:`parkscan.aoi.errors` (the exception tree lives at the bottom of the stack)."""
from parkscan.aoi.errors import *  # noqa: F401,F403
from parkscan.aoi.errors import __all__  # noqa: F401
