"""parkscan.sources.readers: readers of observation files as their providers publish them.

* :mod:`.s5p` — Sentinel-5P TROPOMI L2 netCDF (NO2, SO2): :func:`~.s5p.read_s5p`, :func:`~.s5p.read_s5p_metadata`.
* :mod:`.firms` — NASA FIRMS active-fire CSV (VIIRS, MODIS): :func:`~.firms.read_firms`.
* :mod:`.lst` — Landsat C2 L2 ST_B10 or any LST GeoTIFF onto a park grid: :func:`~.lst.read_lst`, :func:`~.lst.read_landsat_ndvi`.
* :mod:`.gppd` — WRI Global Power Plant Database CSV: :func:`~.gppd.read_gppd`, :func:`~.gppd.plants_near_park`.
"""
__all__ = ["s5p", "firms", "lst", "gppd"]
