"""parkscan.sources.remote"""
