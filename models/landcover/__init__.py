"""parkscan.models.landcover"""
