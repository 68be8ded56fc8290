"""parkscan.maps: interactive (folium, offline) and static publication maps. Imports only parkscan.aoi."""
from .layers import Layer, RasterLayer, TrackLayer, VectorLayer

__all__ = ["Layer", "RasterLayer", "TrackLayer", "VectorLayer"]
