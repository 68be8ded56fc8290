"""parkscan.models.satellite"""
