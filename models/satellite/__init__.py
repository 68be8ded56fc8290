"""parkscan.models.satellite: emission and heat hotspots from satellite observations.

* :mod:`.no2` — oversampling of TROPOMI pixels (Sun et al. 2018) and the park − ring enhancement.
* :mod:`.flux` — flux-divergence emissions (Beirle et al. 2019) with detection limits, source location.
* :mod:`.thermal` — thermal anomalies against a land-cover-matched local background.
* :mod:`.fires` — persistent heat sources from FIRMS detections (DBSCAN + Gaussian-mixture split).
* :mod:`.grids` — metric park grid → WGS-84 for map layers.
"""
__all__ = ["no2", "flux", "thermal", "fires", "grids"]
