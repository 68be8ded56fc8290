"""parkscan.sources"""
