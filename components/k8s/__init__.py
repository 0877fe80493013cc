"""Kubernetes building blocks shared by the add-ons and the app.

Pure builders of plain object dicts (metadata, hardened containers and pods, probes,
resources, NetworkPolicy primitives, checkov skip annotations) and `register`, the one
function that turns such dicts into pulumi-kubernetes resources on a given provider.
May import: core (`components/*.py`) only.
"""
