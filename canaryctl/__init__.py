"""Operator tools for eks-canary: render manifests, verify the live split."""
