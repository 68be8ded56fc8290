"""parkscan.sources.readers"""
