"""parkscan.sources.mobile"""
