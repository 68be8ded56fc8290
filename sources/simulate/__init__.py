"""parkscan.sources.simulate"""
