"""Cluster add-ons: one module per add-on."""
