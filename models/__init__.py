"""parkscan.models"""
