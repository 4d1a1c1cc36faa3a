"""engine/inside"""
