"""Operator tools for eks-canary: render manifests, verify the live split.

The top layer beside `__main__.py`: may import anything in `components`.
"""
