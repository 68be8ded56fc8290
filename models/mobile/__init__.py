"""parkscan.models.mobile"""
